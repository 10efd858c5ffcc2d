/** The answer to one attempt: allowed, or refused until `retryAfterMs` has passed. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/** Counts attempts per key in fixed windows. */
export interface RateLimiter {
  /** Counts one attempt for `key` and says whether it is within the limit. */
  hit(key: string): RateDecision;
  /** Forgets a key's attempts (a successful sign-in clears its account's failures). */
  reset(key: string): void;
}

/** How many attempts a key may make per window. */
export interface RateLimit {
  readonly attempts: number;
  readonly windowMs: number;
}

/** Keys kept at most; past this, finished windows are swept so a flood of keys cannot grow memory. */
const MAX_KEYS = 50_000;

/**
 * An in-process fixed-window limiter. Each Parley process counts its own attempts, so N processes
 * allow N times the limit: still a hard ceiling on guessing (see docs/decisions/0007-*).
 */
export function createRateLimiter(limit: RateLimit, clock: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  const sweep = (now: number) => {
    for (const [key, window] of windows) if (now - window.start >= limit.windowMs) windows.delete(key);
  };
  return {
    hit(key) {
      const now = clock();
      let window = windows.get(key);
      if (!window || now - window.start >= limit.windowMs) {
        if (windows.size >= MAX_KEYS) sweep(now);
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      if (window.count <= limit.attempts) return { allowed: true };
      return { allowed: false, retryAfterMs: window.start + limit.windowMs - now };
    },
    reset(key) {
      windows.delete(key);
    },
  };
}
