import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '../shared/errors';
import {
  addBusinessMs,
  businessMsBetween,
  checkSchedule,
  isOpenAt,
  offsetAt,
  zonedInstant,
  type BusinessSchedule,
  type OpenInterval,
  type Weekday,
} from './business-hours';

const HOUR = 3_600_000;
const MADRID = 'Europe/Madrid';
const NEW_YORK = 'America/New_York';

function weekdays(from: string, to: string): OpenInterval[] {
  return ([1, 2, 3, 4, 5] as Weekday[]).map((day) => ({ day, from, to }));
}

function schedule(timeZone: string, weekly: OpenInterval[], holidays: string[] = []): BusinessSchedule {
  return { timeZone, weekly, holidays };
}

const office = schedule(MADRID, weekdays('09:00', '17:00'));
const allDay = (timeZone: string) =>
  schedule(
    timeZone,
    ([0, 1, 2, 3, 4, 5, 6] as Weekday[]).map((day) => ({ day, from: '00:00', to: '24:00' })),
  );

function refusal(run: () => unknown): { code: string; rule?: string } {
  try {
    run();
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, rule: error.details.rule };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('business hours (BH)', () => {
  it('[BH1] a schedule needs a known time zone, HH:MM intervals within a day, some open hours and valid holidays', () => {
    expect(() => checkSchedule(office)).not.toThrow();
    const invalid = { code: 'SCHEDULE_INVALID', rule: 'BH1' };
    expect(refusal(() => checkSchedule(schedule('Mars/Olympus', weekdays('09:00', '17:00'))))).toEqual(
      invalid,
    );
    expect(refusal(() => checkSchedule(schedule(MADRID, weekdays('17:00', '09:00'))))).toEqual(invalid);
    expect(refusal(() => checkSchedule(schedule(MADRID, weekdays('09:00', '24:30'))))).toEqual(invalid);
    expect(refusal(() => checkSchedule(schedule(MADRID, [])))).toEqual(invalid);
    expect(refusal(() => checkSchedule(schedule(MADRID, weekdays('9:00', '17:00'))))).toEqual(invalid);
    expect(
      refusal(() => checkSchedule(schedule(MADRID, weekdays('09:00', '17:00'), ['2026-13-01']))),
    ).toEqual(invalid);
    expect(refusal(() => businessMsBetween(schedule(MADRID, []), 0, HOUR))).toEqual(invalid);
  });

  it('[BH2] business time counts only open hours, in the local time of the inbox, and no holidays', () => {
    // Given Madrid office hours, Monday to Friday 09:00-17:00 (CET, UTC+1, in January)
    const monday = '2026-01-12';
    // When a span runs Monday 08:00 to 18:00, Then it holds the 8 open hours
    expect(
      businessMsBetween(office, zonedInstant(MADRID, monday, '08:00'), zonedInstant(MADRID, monday, '18:00')),
    ).toBe(8 * HOUR);
    // When it runs Friday 16:00 to Monday 10:00, Then 1 h on Friday and 1 h on Monday
    const friday = zonedInstant(MADRID, '2026-01-16', '16:00');
    expect(businessMsBetween(office, friday, zonedInstant(MADRID, '2026-01-19', '10:00'))).toBe(2 * HOUR);
    // When the Monday is a holiday, Then only Friday's hour counts
    const holiday = schedule(MADRID, weekdays('09:00', '17:00'), ['2026-01-19']);
    expect(businessMsBetween(holiday, friday, zonedInstant(MADRID, '2026-01-19', '10:00'))).toBe(HOUR);
    // And nothing counts backwards, and 09:00 is open where 17:00 is not
    expect(businessMsBetween(office, friday, friday - HOUR)).toBe(0);
    expect(isOpenAt(office, zonedInstant(MADRID, monday, '09:00'))).toBe(true);
    expect(isOpenAt(office, zonedInstant(MADRID, monday, '17:00'))).toBe(false);
    expect(isOpenAt(office, zonedInstant(MADRID, '2026-01-17', '12:00'))).toBe(false);
  });

  it('[BH3] open hours follow the local clock across a DST change in Madrid: spring forward and fall back', () => {
    // Given Madrid changes from UTC+1 to UTC+2 on 2026-03-29 at 02:00 local
    expect(offsetAt(MADRID, zonedInstant('UTC', '2026-03-29', '00:59'))).toBe(HOUR);
    expect(offsetAt(MADRID, zonedInstant('UTC', '2026-03-29', '01:00'))).toBe(2 * HOUR);
    // Then that Sunday lasts 23 business hours on an all-day schedule, and 25 h on 2026-10-25
    const madrid = allDay(MADRID);
    const day = (date: string, next: string) =>
      businessMsBetween(madrid, zonedInstant(MADRID, date), zonedInstant(MADRID, next));
    expect(day('2026-03-29', '2026-03-30')).toBe(23 * HOUR);
    expect(day('2026-10-25', '2026-10-26')).toBe(25 * HOUR);
    // And office hours open at 09:00 local on both sides: 08:00 UTC before the change, 07:00 UTC after
    expect(zonedInstant(MADRID, '2026-03-27', '09:00')).toBe(zonedInstant('UTC', '2026-03-27', '08:00'));
    expect(zonedInstant(MADRID, '2026-03-30', '09:00')).toBe(zonedInstant('UTC', '2026-03-30', '07:00'));
    // So Friday 16:00 to Monday 10:00 across the change is still 2 business hours
    const across = businessMsBetween(
      office,
      zonedInstant(MADRID, '2026-03-27', '16:00'),
      zonedInstant(MADRID, '2026-03-30', '10:00'),
    );
    expect(across).toBe(2 * HOUR);
    // And 02:30 on the spring-forward day does not exist: it reads as 03:30 CEST
    expect(zonedInstant(MADRID, '2026-03-29', '02:30')).toBe(zonedInstant('UTC', '2026-03-29', '01:30'));
  });

  it('[BH3] open hours follow the local clock across a DST change in New York: spring forward and fall back', () => {
    // Given New York changes to EDT on 2026-03-08 and back to EST on 2026-11-01
    const newYork = allDay(NEW_YORK);
    expect(
      businessMsBetween(newYork, zonedInstant(NEW_YORK, '2026-03-08'), zonedInstant(NEW_YORK, '2026-03-09')),
    ).toBe(23 * HOUR);
    expect(
      businessMsBetween(newYork, zonedInstant(NEW_YORK, '2026-11-01'), zonedInstant(NEW_YORK, '2026-11-02')),
    ).toBe(25 * HOUR);
    // When open 01:00-03:00 on the fall-back Sunday, Then 01:00-02:00 happens twice: 3 business hours
    const night = schedule(NEW_YORK, [{ day: 0, from: '01:00', to: '03:00' }]);
    const sunday = zonedInstant(NEW_YORK, '2026-11-01');
    expect(businessMsBetween(night, sunday, sunday + 24 * HOUR)).toBe(3 * HOUR);
    // And open 02:00-03:00 on the spring-forward Sunday is no time at all
    const gap = schedule(NEW_YORK, [{ day: 0, from: '02:00', to: '03:00' }]);
    const spring = zonedInstant(NEW_YORK, '2026-03-08');
    expect(businessMsBetween(gap, spring, spring + 24 * HOUR)).toBe(0);
    // The ambiguous 01:30 on the fall-back day is the earlier one (EDT, UTC-4)
    expect(zonedInstant(NEW_YORK, '2026-11-01', '01:30')).toBe(zonedInstant('UTC', '2026-11-01', '05:30'));
  });

  it('[BH4] adding business time gives the due instant: skipping nights, weekends, holidays and DST changes', () => {
    const friday = zonedInstant(MADRID, '2026-01-16', '16:00');
    // Given Friday 16:00, When 2 business hours are added, Then Monday 10:00
    expect(addBusinessMs(office, friday, 2 * HOUR)).toBe(zonedInstant(MADRID, '2026-01-19', '10:00'));
    // And with the Monday a holiday, Tuesday 10:00
    const holiday = schedule(MADRID, weekdays('09:00', '17:00'), ['2026-01-19']);
    expect(addBusinessMs(holiday, friday, 2 * HOUR)).toBe(zonedInstant(MADRID, '2026-01-20', '10:00'));
    // Starting before opening, the clock starts at 09:00
    expect(addBusinessMs(office, zonedInstant(MADRID, '2026-01-19', '06:00'), HOUR)).toBe(
      zonedInstant(MADRID, '2026-01-19', '10:00'),
    );
    // Across the spring-forward weekend, Monday 10:00 local is 08:00 UTC
    const before = zonedInstant(MADRID, '2026-03-27', '16:00');
    expect(addBusinessMs(office, before, 2 * HOUR)).toBe(zonedInstant('UTC', '2026-03-30', '08:00'));
    // And adding nothing is the start itself, even outside open hours
    expect(addBusinessMs(office, zonedInstant(MADRID, '2026-01-17', '12:00'), 0)).toBe(
      zonedInstant(MADRID, '2026-01-17', '12:00'),
    );
  });

  it('[BH5] business time is additive over split spans, never exceeds calendar time, and adding it inverts it', () => {
    const start = zonedInstant('UTC', '2026-01-01');
    const instant = fc.integer({ min: start, max: start + 365 * 24 * HOUR });
    const zones = fc.constantFrom(MADRID, NEW_YORK, 'Asia/Kolkata', 'Australia/Lord_Howe');
    const week = fc.array(
      fc
        .record({
          day: fc.integer({ min: 0, max: 6 }),
          from: fc.integer({ min: 0, max: 47 }),
          length: fc.integer({ min: 1, max: 48 }),
        })
        .map(({ day, from, length }) => ({
          day: day as Weekday,
          from: hhmm(from * 30),
          to: hhmm(Math.min(1440, from * 30 + length * 30)),
        })),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(
        zones,
        week,
        instant,
        fc.integer({ min: 0, max: 20 * 24 * HOUR }),
        fc.integer({ min: 0, max: 20 * 24 * HOUR }),
        (timeZone, weekly, a, ab, bc) => {
          const plan = schedule(timeZone, weekly, ['2026-05-01']);
          const [b, c] = [a + ab, a + ab + bc];
          const whole = businessMsBetween(plan, a, c);
          expect(whole).toBe(businessMsBetween(plan, a, b) + businessMsBetween(plan, b, c));
          expect(whole).toBeLessThanOrEqual(c - a);
          expect(whole).toBeGreaterThanOrEqual(0);
          if (whole > 0) expect(businessMsBetween(plan, a, addBusinessMs(plan, a, whole))).toBe(whole);
        },
      ),
      { numRuns: 60 },
    );
  });
});

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
