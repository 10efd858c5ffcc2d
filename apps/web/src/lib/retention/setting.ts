import { RETENTION_MAX_DAYS, RETENTION_MIN_DAYS } from '@parley/domain';

export { RETENTION_MAX_DAYS, RETENTION_MIN_DAYS };

/** What the tenant's retention means, in one sentence for the settings screen. */
export function retentionSentence(days: number | null): string {
  if (days === null) return 'Message content is kept for ever.';
  return `Message text, replies and notes older than ${days === 1 ? '1 day' : `${days} days`} become unreadable; contact names and report counts stay.`;
}

/** The number of days an admin typed, or why it cannot be a retention (RT1). */
export function parseRetentionDays(
  text: string,
): { readonly ok: true; readonly days: number } | { readonly ok: false; readonly error: string } {
  const trimmed = text.trim();
  const error = `Enter a whole number of days from ${RETENTION_MIN_DAYS} to ${RETENTION_MAX_DAYS}, or choose “Keep for ever”.`;
  if (!/^\d+$/.test(trimmed)) return { ok: false, error };
  const days = Number(trimmed);
  if (days < RETENTION_MIN_DAYS || days > RETENTION_MAX_DAYS) return { ok: false, error };
  return { ok: true, days };
}

/**
 * A change that makes more content unreadable: any limit after "for ever", or a shorter one. It
 * takes effect for good at the next sweep, so the screen asks first; a longer limit does not.
 */
export function isShortening(current: number | null, next: number | null): boolean {
  if (next === null) return false;
  return current === null || next < current;
}
