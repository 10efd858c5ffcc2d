import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spec } from '../testing/spec';
import { zonedInstant } from '../analytics/business-hours';
import { tenantSettings } from './decider';
import {
  isPeriodPastRetention,
  isRetentionPeriod,
  lastPeriodPastRetention,
  periodEnd,
  periodStart,
  retentionPeriodOf,
} from './period';

/** An instant in UTC: "YYYY-MM-DDTHH:MM[:SS.mmm]Z" (the domain reads no clock and uses no Date). */
const at = (iso: string) => {
  const [, date, time, ms] = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}(?:\.\d{3})?))?Z$/.exec(iso)!;
  return zonedInstant('UTC', date!, time) + (ms === undefined ? 0 : Math.round(Number(ms) * 1000));
};
const DAY = 86_400_000;

describe('the retention setting', () => {
  const set = (days: number | null) =>
    ({ type: 'SetRetention', data: { days, changedBy: 'ada', at: 9 } }) as const;

  it('[RT1] is none or whole days from 1 to 3650; anything else is refused with RETENTION_INVALID', () => {
    spec(tenantSettings)
      .given([])
      .when(set(90))
      .then([{ type: 'RetentionSet', data: { days: 90, previous: null, changedBy: 'ada', at: 9 } }]);
    for (const days of [1, 3650])
      expect(tenantSettings.decide(set(days), tenantSettings.initialState())).toHaveLength(1);
    for (const days of [0, -5, 1.5, 3651, Number.NaN, Number.POSITIVE_INFINITY])
      spec(tenantSettings).given([]).when(set(days)).thenThrows('RETENTION_INVALID', 'RT1');
    const state = spec(tenantSettings)
      .given([{ type: 'RetentionSet', data: { days: 90, previous: null, changedBy: 'ada', at: 1 } }])
      .when(set(null))
      .then([{ type: 'RetentionSet', data: { days: null, previous: 90, changedBy: 'ada', at: 9 } }]);
    expect(state).toEqual({ retentionDays: null });
  });

  it('[RT2] setting the retention it has already records nothing', () => {
    spec(tenantSettings)
      .given([{ type: 'RetentionSet', data: { days: 90, previous: null, changedBy: 'ada', at: 1 } }])
      .when(set(90))
      .thenNothingHappens();
    spec(tenantSettings).given([]).when(set(null)).thenNothingHappens();
  });
});

describe('retention periods', () => {
  it('[RT3] a period is a UTC week from Monday 00:00, named by its Monday', () => {
    expect(retentionPeriodOf(at('2026-12-07T00:00:00Z'))).toBe('2026-12-07'); // a Monday
    expect(retentionPeriodOf(at('2026-12-06T23:59:59.999Z'))).toBe('2026-11-30'); // the Sunday before
    expect(retentionPeriodOf(at('2026-12-13T23:59:59.999Z'))).toBe('2026-12-07');
    expect(retentionPeriodOf(at('2026-12-14T00:00:00Z'))).toBe('2026-12-14');
    // The epoch was a Thursday; times before it fall in weeks too.
    expect(retentionPeriodOf(0)).toBe('1969-12-29');
    expect(retentionPeriodOf(-1)).toBe('1969-12-29');
    // Weeks cross months and years; a leap day is one more day of its week.
    expect(retentionPeriodOf(at('2027-01-01T12:00:00Z'))).toBe('2026-12-28');
    expect(retentionPeriodOf(at('2028-02-29T08:00:00Z'))).toBe('2028-02-28');
    expect(retentionPeriodOf(at('2028-03-05T23:59:59.999Z'))).toBe('2028-02-28');
    expect(periodStart('2028-02-28')).toBe(at('2028-02-28T00:00:00Z'));
    expect(periodEnd('2028-02-28')).toBe(at('2028-03-06T00:00:00Z'));
    expect(isRetentionPeriod('2026-12-07')).toBe(true);
    for (const bad of ['2026-12-08', '2026-13-07', '2026-02-30', '2026-2-2', '', 20261207, null])
      expect(isRetentionPeriod(bad)).toBe(false);
    expect(() => periodStart('2026-12-08')).toThrow(RangeError);
    // Any instant from 1900 to 2400 lies in its period, which starts on a Monday, 7 days before the next.
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000, max: 13_569_465_600_000 }), (t) => {
        const period = retentionPeriodOf(t);
        expect(isRetentionPeriod(period)).toBe(true);
        expect(periodStart(period) <= t && t < periodEnd(period)).toBe(true);
        expect(retentionPeriodOf(periodEnd(period))).not.toBe(period);
      }),
    );
  });

  it('[RT4] a period is past the limit once its whole week is older than the limit, not a millisecond before', () => {
    const week = '2026-08-31'; // Monday 31 August to Sunday 6 September
    const end = at('2026-09-07T00:00:00Z');
    expect(isPeriodPastRetention(week, 90, end + 90 * DAY - 1)).toBe(false);
    expect(isPeriodPastRetention(week, 90, end + 90 * DAY)).toBe(true);
    // The newest period past the limit, and every one before it.
    expect(lastPeriodPastRetention(90, end + 90 * DAY)).toBe(week);
    expect(lastPeriodPastRetention(90, end + 90 * DAY - 1)).toBe('2026-08-24');
    for (let now = at('2026-12-01T00:00:00Z'); now < at('2027-01-01T00:00:00Z'); now += 7 * 3_600_000) {
      const last = lastPeriodPastRetention(90, now);
      expect(isPeriodPastRetention(last, 90, now)).toBe(true);
      expect(isPeriodPastRetention(retentionPeriodOf(periodEnd(last)), 90, now)).toBe(false);
    }
    // Across a leap day: 1 day of retention, the week of 29 February 2028.
    expect(isPeriodPastRetention('2028-02-28', 1, at('2028-03-06T23:59:59.999Z'))).toBe(false);
    expect(isPeriodPastRetention('2028-02-28', 1, at('2028-03-07T00:00:00Z'))).toBe(true);
  });
});
