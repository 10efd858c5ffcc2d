/**
 * The reports screen's arithmetic (#16): the periods it offers, as the UTC days `reports.overview`
 * and `reports.metrics` take, and how it writes a duration. No React, so it is tested on its own.
 */
const DAY_MS = 86_400_000;
/** The server refuses a range of more than this many days (server/src/api/routers/reports.ts). */
export const MAX_RANGE_DAYS = 366;

export type PeriodPreset = 'today' | 'yesterday' | '7d' | '30d' | 'custom';

export const PERIOD_PRESETS: readonly (readonly [PeriodPreset, string])[] = [
  ['today', 'Today'],
  ['yesterday', 'Yesterday'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['custom', 'Custom'],
];

/** A range of UTC days, both ends included, as `YYYY-MM-DD`. */
export interface DayRange {
  readonly from: string;
  readonly to: string;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The days of a preset, counted back from `now`'s UTC day (which is included). */
export function presetRange(preset: Exclude<PeriodPreset, 'custom'>, now: number): DayRange {
  const today = utcDay(now);
  switch (preset) {
    case 'today':
      return { from: today, to: today };
    case 'yesterday': {
      const day = utcDay(now - DAY_MS);
      return { from: day, to: day };
    }
    case '7d':
      return { from: utcDay(now - 6 * DAY_MS), to: today };
    case '30d':
      return { from: utcDay(now - 29 * DAY_MS), to: today };
    default:
      return preset satisfies never;
  }
}

/** A custom range checked before it is asked for: the reason it cannot be, or null when it can. */
export function rangeProblem(range: DayRange): string | null {
  const from = Date.parse(`${range.from}T00:00:00Z`);
  const to = Date.parse(`${range.to}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(range.from) || !Number.isFinite(from)) return 'Choose the first day.';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(range.to) || !Number.isFinite(to)) return 'Choose the last day.';
  if (to < from) return 'The last day comes before the first.';
  if ((to - from) / DAY_MS + 1 > MAX_RANGE_DAYS) return `A period spans at most ${MAX_RANGE_DAYS} days.`;
  return null;
}

/** A duration for people: "45 s", "12 min", "3 h 05 min", "2 d 4 h"; "—" when there is none. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  const days = Math.floor(hours / 24);
  return `${days} d ${hours % 24} h`;
}
