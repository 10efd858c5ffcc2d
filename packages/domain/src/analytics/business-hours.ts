import { refuse } from '../shared/errors';
import type { EpochMs } from '../shared/ids';

/** 0 = Sunday ... 6 = Saturday, as in the local calendar of the schedule's time zone. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Open hours on one weekday, in local wall-clock time: `from` inclusive, `to` exclusive ("24:00" ends the day). */
export interface OpenInterval {
  readonly day: Weekday;
  /** "HH:MM", 00:00 to 23:59. */
  readonly from: string;
  /** "HH:MM", after `from`, at most 24:00. */
  readonly to: string;
}

/**
 * When an inbox is staffed (rule BH1): an IANA time zone, weekly open intervals in its local time,
 * and holidays (local dates "YYYY-MM-DD", closed all day). Plain JSON, so it can live in an event.
 */
export interface BusinessSchedule {
  readonly timeZone: string;
  readonly weekly: readonly OpenInterval[];
  readonly holidays: readonly string[];
}

export const ScheduleErrorCode = { SCHEDULE_INVALID: 'SCHEDULE_INVALID' } as const;

const MINUTE = 60_000;
const DAY = 86_400_000;
const HHMM = /^(\d{2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Checks a schedule (BH1): a time zone the platform knows, valid intervals, at least one open minute, valid dates. */
export function checkSchedule(schedule: BusinessSchedule): void {
  const invalid = (message: string): never => refuse(ScheduleErrorCode.SCHEDULE_INVALID, message, 'BH1');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: schedule.timeZone });
  } catch {
    invalid(`unknown time zone ${JSON.stringify(schedule.timeZone)}`);
  }
  for (const interval of schedule.weekly) {
    if (!Number.isInteger(interval.day) || interval.day < 0 || interval.day > 6) {
      invalid(`weekday ${String(interval.day)} is not 0 (Sunday) to 6 (Saturday)`);
    }
    const from = minuteOf(interval.from);
    const to = minuteOf(interval.to);
    if (from === null || to === null || from >= 1440 || to > 1440 || from >= to) {
      invalid(`open hours ${interval.from}-${interval.to} must be HH:MM, from before to, within one day`);
    }
  }
  if (schedule.weekly.length === 0) invalid('a schedule needs some open hours');
  for (const holiday of schedule.holidays) {
    if (dayOfDate(holiday) === null) invalid(`holiday ${JSON.stringify(holiday)} is not a date YYYY-MM-DD`);
  }
}

/**
 * Business milliseconds in [fromMs, toMs): the part of that span the schedule is open (BH2). Zero
 * when `toMs` is not after `fromMs`. Open hours are local wall-clock times, so a DST change moves
 * them in UTC; an open interval containing the change is an hour shorter or longer (BH3).
 */
export function businessMsBetween(schedule: BusinessSchedule, fromMs: EpochMs, toMs: EpochMs): number {
  if (!(toMs > fromMs)) return 0;
  const plan = planOf(schedule);
  let total = 0;
  const last = localDay(schedule.timeZone, toMs) + 1;
  for (let day = localDay(schedule.timeZone, fromMs) - 1; day <= last; day++) {
    for (const [start, end] of openOn(plan, day)) {
      const from = Math.max(start, fromMs);
      const to = Math.min(end, toMs);
      if (to > from) total += to - from;
    }
  }
  return total;
}

/**
 * The instant at which `ms` business milliseconds have passed since `fromMs` (BH4): what an SLA
 * target becomes as a due time. `ms` of 0 is `fromMs` itself.
 */
export function addBusinessMs(schedule: BusinessSchedule, fromMs: EpochMs, ms: number): EpochMs {
  if (!(ms > 0)) return fromMs;
  const plan = planOf(schedule);
  if (plan.weekly.every((intervals) => intervals.length === 0)) {
    refuse(ScheduleErrorCode.SCHEDULE_INVALID, 'a schedule needs some open hours', 'BH1');
  }
  let remaining = ms;
  // Holidays are finite, so a week with open hours always comes.
  for (let day = localDay(schedule.timeZone, fromMs) - 1; ; day++) {
    for (const [start, end] of openOn(plan, day)) {
      const from = Math.max(start, fromMs);
      if (end <= from) continue;
      if (remaining <= end - from) return from + remaining;
      remaining -= end - from;
    }
  }
}

/** Whether the schedule is open at `atMs`. */
export function isOpenAt(schedule: BusinessSchedule, atMs: EpochMs): boolean {
  return businessMsBetween(schedule, atMs, atMs + 1) === 1;
}

// Time zones, through Intl only (the domain reads no clock and uses no `Date`).

/** A zone's UTC offset at an instant, in ms (Madrid in summer: +7,200,000). */
export function offsetAt(timeZone: string, atMs: EpochMs): number {
  const second = Math.floor(atMs / 1000) * 1000;
  const parts = formatterOf(timeZone).formatToParts(second);
  const field = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((part) => part.type === type)?.value ?? NaN);
  const year = field('year') * (parts.find((p) => p.type === 'era')?.value === 'B' ? -1 : 1);
  const local =
    daysFromCivil(year, field('month'), field('day')) * DAY +
    ((field('hour') % 24) * 60 + field('minute')) * MINUTE +
    field('second') * 1000;
  return local - second;
}

/**
 * The instant of a local wall-clock time (ms since the epoch as if the local time were UTC). In a
 * spring-forward gap the time is read with the offset before the change (02:30 becomes 03:30); in
 * a fall-back overlap the earlier instant is taken.
 */
export function instantOfLocal(timeZone: string, localMs: number): EpochMs {
  const before = offsetAt(timeZone, localMs - DAY);
  const after = offsetAt(timeZone, localMs + DAY);
  const candidates = [localMs - before, localMs - after].filter(
    (instant) => instant + offsetAt(timeZone, instant) === localMs,
  );
  return candidates.length > 0 ? Math.min(...candidates) : localMs - before;
}

/** The instant of a local date ("YYYY-MM-DD") and time ("HH:MM", default midnight) in a zone, as `instantOfLocal`. */
export function zonedInstant(timeZone: string, date: string, time = '00:00'): EpochMs {
  const day = dayOfDate(date);
  const minute = minuteOf(time);
  if (day === null || minute === null) {
    refuse(ScheduleErrorCode.SCHEDULE_INVALID, `${date} ${time} is not a date YYYY-MM-DD and a time HH:MM`);
  }
  return instantOfLocal(timeZone, day * DAY + minute * MINUTE);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'narrow',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The local calendar day (days since 1970-01-01) of an instant in a zone. */
function localDay(timeZone: string, atMs: EpochMs): number {
  return Math.floor((atMs + offsetAt(timeZone, atMs)) / DAY);
}

function minuteOf(hhmm: string): number | null {
  const match = HHMM.exec(hhmm);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return null;
  return hours * 60 + minutes;
}

function dayOfDate(date: string): number | null {
  const match = DATE.exec(date);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return daysFromCivil(year, month, day);
}

/** A schedule prepared for arithmetic: merged local minute ranges per weekday, holidays as day numbers. */
interface Plan {
  readonly timeZone: string;
  readonly weekly: readonly (readonly (readonly [number, number])[])[];
  readonly holidays: ReadonlySet<number>;
  /** Open instants per local day, computed once. */
  readonly days: Map<number, readonly (readonly [EpochMs, EpochMs])[]>;
}

const plans = new WeakMap<BusinessSchedule, Plan>();

function planOf(schedule: BusinessSchedule): Plan {
  let plan = plans.get(schedule);
  if (plan) return plan;
  checkSchedule(schedule);
  const weekly = Array.from({ length: 7 }, (_, weekday) =>
    merge(
      schedule.weekly
        .filter((interval) => interval.day === weekday)
        .map((interval) => [minuteOf(interval.from) ?? 0, minuteOf(interval.to) ?? 0] as const),
    ),
  );
  const holidays = new Set(schedule.holidays.map((date) => dayOfDate(date) ?? NaN));
  plan = { timeZone: schedule.timeZone, weekly, holidays, days: new Map() };
  plans.set(schedule, plan);
  return plan;
}

function merge(ranges: (readonly [number, number])[]): (readonly [number, number])[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of sorted) {
    const previous = merged[merged.length - 1];
    if (previous && from <= previous[1]) previous[1] = Math.max(previous[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** The open instants of one local day (days since the epoch), earliest first. */
function openOn(plan: Plan, day: number): readonly (readonly [EpochMs, EpochMs])[] {
  const cached = plan.days.get(day);
  if (cached) return cached;
  let open: (readonly [EpochMs, EpochMs])[] = [];
  if (!plan.holidays.has(day)) {
    // 1970-01-01 was a Thursday (4).
    const weekday = (((day + 4) % 7) + 7) % 7;
    open = (plan.weekly[weekday] ?? [])
      .map(
        ([from, to]) =>
          [
            instantOfLocal(plan.timeZone, day * DAY + from * MINUTE),
            instantOfLocal(plan.timeZone, day * DAY + to * MINUTE),
          ] as const,
      )
      .filter(([start, end]) => end > start);
  }
  plan.days.set(day, open);
  return open;
}
