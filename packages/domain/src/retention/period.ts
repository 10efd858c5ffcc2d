import type { EpochMs } from '../shared/ids';

const DAY_MS = 86_400_000;

/**
 * The length of a retention period in days (decision 0031): a week, Monday 00:00 UTC to the next.
 * Content lives at most its tenant's limit plus one period, so a week keeps the overshoot small
 * (7 days on 90) while a busy conversation makes at most 53 content keys a year.
 */
export const RETENTION_PERIOD_DAYS = 7;

const PERIOD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/** "YYYY-MM-DD" of a day number since 1970-01-01 (its inverse, civil_from_days). */
function civilFromDays(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/**
 * RT3: the retention period `at` falls in, named by its first day (a Monday, "YYYY-MM-DD", UTC).
 * 1970-01-01 was a Thursday, so day n since the epoch is (n + 3) mod 7 days after a Monday.
 */
export function retentionPeriodOf(at: EpochMs): string {
  const day = Math.floor(at / DAY_MS);
  return civilFromDays(day - ((((day + 3) % 7) + 7) % 7));
}

/** The day number of a period's name, or null when it names no Monday. */
function mondayOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = PERIOD.exec(value);
  if (!match) return null;
  const days = daysFromCivil(Number(match[1]), Number(match[2]), Number(match[3]));
  // A date that does not exist (2026-02-30) comes back as another one.
  if (civilFromDays(days) !== value || (((days + 3) % 7) + 7) % 7 !== 0) return null;
  return days;
}

/** True for a period's name: the date of a Monday, as `retentionPeriodOf` gives it. */
export function isRetentionPeriod(value: unknown): value is string {
  return mondayOf(value) !== null;
}

/** The first instant of a period. */
export function periodStart(period: string): EpochMs {
  const days = mondayOf(period);
  if (days === null) throw new RangeError(`${JSON.stringify(period)} is not a retention period`);
  return days * DAY_MS;
}

/** The first instant after a period: the start of the next one. */
export function periodEnd(period: string): EpochMs {
  return periodStart(period) + RETENTION_PERIOD_DAYS * DAY_MS;
}

/**
 * RT4: a period is past a retention of `days` at `now` once the whole of it is older than the
 * limit, that is from its end plus `days` days on: then even its last instant is `days` days old.
 */
export function isPeriodPastRetention(period: string, days: number, now: EpochMs): boolean {
  return periodEnd(period) + days * DAY_MS <= now;
}

/**
 * RT4: the newest period past a retention of `days` at `now`; it and every earlier period are
 * past it, every later one is not.
 */
export function lastPeriodPastRetention(days: number, now: EpochMs): string {
  return retentionPeriodOf(now - (days + RETENTION_PERIOD_DAYS) * DAY_MS);
}
