/** The answer to one attempt: allowed, or refused until `retryAfterMs` has passed. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * A map that keeps at most `maxKeys` entries, dropping the least recently used one: a flood of
 * new keys costs O(1) per key and never a sweep of them all.
 */
export class BoundedLru<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly maxKeys: number) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new Error('maxKeys must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry, now the most recently used. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** How failures slow a key down: some free, then a delay that doubles per failure, up to a cap. */
export interface BackoffPolicy {
  /** Failures allowed before any delay. */
  readonly freeFailures: number;
  /** The delay after the last free failure; each further failure doubles it. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A key with no failure for this long starts over. */
  readonly forgetAfterMs: number;
  /** Keys kept at most (least recently used dropped first). */
  readonly maxKeys: number;
}

/**
 * Counts failures per key and makes a key wait after too many (progressive delay, not a lock-out).
 * An attempt counts as a failure as soon as it is let through, so parallel guesses cannot all pass
 * before the first one fails; a success gives its count back (`succeeded`) or clears it (`forget`).
 */
export interface FailureLimiter {
  /** Refuses a key that must still wait; otherwise lets the attempt through and counts it. */
  attempt(key: string): RateDecision;
  /** The attempt let through last succeeded: it does not count as a failure. */
  succeeded(key: string): void;
  /** Clears a key's failures (a successful sign-in clears its account). */
  forget(key: string): void;
  readonly size: number;
}

interface Failures {
  count: number;
  lastAt: number;
}

/** An in-process failure limiter; each Parley process counts its own (docs/decisions/0007-*). */
export function createFailureLimiter(policy: BackoffPolicy, clock: () => number = Date.now): FailureLimiter {
  const keys = new BoundedLru<Failures>(policy.maxKeys);
  const delayAfter = (count: number) =>
    count < policy.freeFailures
      ? 0
      : Math.min(policy.baseDelayMs * 2 ** Math.min(count - policy.freeFailures, 40), policy.maxDelayMs);
  const current = (key: string, now: number) => {
    const failures = keys.get(key);
    if (failures && now - failures.lastAt >= policy.forgetAfterMs) {
      keys.delete(key);
      return undefined;
    }
    return failures;
  };
  return {
    attempt(key) {
      const now = clock();
      const failures = current(key, now);
      if (failures) {
        const waitMs = failures.lastAt + delayAfter(failures.count) - now;
        if (waitMs > 0) return { allowed: false, retryAfterMs: waitMs };
        failures.count += 1;
        failures.lastAt = now;
      } else keys.set(key, { count: 1, lastAt: now });
      return { allowed: true };
    },
    succeeded(key) {
      const failures = keys.get(key);
      if (!failures) return;
      failures.count -= 1;
      if (failures.count <= 0) keys.delete(key);
    },
    forget(key) {
      keys.delete(key);
    },
    get size() {
      return keys.size;
    },
  };
}

/** At most `attempts` per key in each window of `windowMs`. */
export interface WindowLimit {
  readonly attempts: number;
  readonly windowMs: number;
  /** Keys kept at most (least recently used dropped first). */
  readonly maxKeys: number;
}

/** Counts attempts per key in fixed windows (web chat sessions and events). */
export interface WindowLimiter {
  hit(key: string): RateDecision;
  readonly size: number;
}

export function createWindowLimiter(limit: WindowLimit, clock: () => number = Date.now): WindowLimiter {
  const windows = new BoundedLru<{ start: number; count: number }>(limit.maxKeys);
  return {
    hit(key) {
      const now = clock();
      let window = windows.get(key);
      if (!window || now - window.start >= limit.windowMs) {
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      if (window.count <= limit.attempts) return { allowed: true };
      return { allowed: false, retryAfterMs: window.start + limit.windowMs - now };
    },
    get size() {
      return windows.size;
    },
  };
}
