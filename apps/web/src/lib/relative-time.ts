const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function startOfDay(at: number): number {
  const date = new Date(at);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/**
 * A short relative time for lists and headers: "now", "3 min", "2 h" (today), "yesterday", a
 * weekday within the last week, then "12 Mar" (or "12 Mar 2025" in another year). A time ahead of
 * `now` (clocks that disagree) reads "now". Local time; `now` is passed in.
 */
export function relativeTime(at: number, now: number): string {
  const ago = now - at;
  if (ago < MINUTE) return 'now';
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min`;
  const today = startOfDay(now);
  if (at >= today) return `${Math.floor(ago / HOUR)} h`;
  // Calendar days, not 24 h spans: 23:00 yesterday is "yesterday" at 00:10 today.
  const days = Math.round((today - startOfDay(at)) / DAY);
  if (days <= 1) return 'yesterday';
  const date = new Date(at);
  if (days < 7) return date.toLocaleDateString('en', { weekday: 'short' });
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/** The full local date and time, for a relative time's title. */
export function absoluteTime(at: number): string {
  return new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
