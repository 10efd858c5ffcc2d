/** Retry delays: exponential from `baseMs`, capped at `maxMs`, with full jitter. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (1 for the first retry): a random point in
 * [ceiling / 2, ceiling], where the ceiling doubles each time. Half the ceiling is kept so a crowd
 * of clients coming back together still spreads out, yet no retry comes sooner than planned.
 */
export function backoffDelay(attempt: number, random: () => number, policy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
