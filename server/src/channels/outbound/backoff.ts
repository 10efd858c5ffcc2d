/** Exponential backoff with "equal jitter": half the step fixed, half random, so delays still grow. */
export function backoffMs(
  attempt: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * A `Retry-After` value in ms: delay-seconds or an HTTP date; undefined when absent or unreadable.
 * Capped, so a platform's typo cannot park a channel for a year.
 */
export function retryAfterMs(
  value: string | null | undefined,
  now: number,
  capMs = 3_600_000,
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(capMs, Math.round(Number(trimmed) * 1000));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(capMs, Math.max(0, at - now));
}
