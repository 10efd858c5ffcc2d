/** Faults a simulator injects on demand, over `POST /_faults` or the developer panel. */
export interface Faults {
  /** Every API call answers 503. */
  readonly outage: boolean;
  /** Added before every answer. */
  readonly latencyMs: number;
  /** Share of API calls (0..1) answered 500 before anything is accepted. */
  readonly errorRate: number;
  /** While set, API calls answer 429 with this `Retry-After` (seconds), until `untilMs` (epoch ms). */
  readonly rateLimit: { readonly retryAfterSeconds: number; readonly untilMs: number } | null;
  /** Share of status webhooks (0..1) posted twice. */
  readonly duplicateRate: number;
  /** Status webhooks are posted newest first (read, delivered, sent). */
  readonly outOfOrder: boolean;
  /** The platform refuses the credentials: sends and Telegram's `setWebhook` answer 401. */
  readonly unauthorized: boolean;
}

/** No faults. */
export const NO_FAULTS: Faults = {
  outage: false,
  latencyMs: 0,
  errorRate: 0,
  rateLimit: null,
  duplicateRate: 0,
  outOfOrder: false,
  unauthorized: false,
};

/**
 * Merges a fault request into the current faults; `rateLimit.forMs` sets how long the 429s last.
 * Throws a RangeError naming a bad field, which the fault API answers with 400.
 */
export function applyFaultRequest(current: Faults, request: unknown, now: number): Faults {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new RangeError('faults must be a JSON object');
  }
  const r = request as Record<string, unknown>;
  const next: { -readonly [K in keyof Faults]: Faults[K] } = { ...current };
  if (r.outage !== undefined) next.outage = bool(r.outage, 'outage');
  if (r.latencyMs !== undefined) next.latencyMs = number(r.latencyMs, 'latencyMs', 0, 60_000);
  if (r.errorRate !== undefined) next.errorRate = number(r.errorRate, 'errorRate', 0, 1);
  if (r.duplicateRate !== undefined) next.duplicateRate = number(r.duplicateRate, 'duplicateRate', 0, 1);
  if (r.outOfOrder !== undefined) next.outOfOrder = bool(r.outOfOrder, 'outOfOrder');
  if (r.unauthorized !== undefined) next.unauthorized = bool(r.unauthorized, 'unauthorized');
  if (r.rateLimit === null) next.rateLimit = null;
  else if (r.rateLimit !== undefined) {
    const limit = r.rateLimit as Record<string, unknown>;
    const retryAfterSeconds = number(limit.retryAfterSeconds ?? 1, 'rateLimit.retryAfterSeconds', 0, 3600);
    const forMs = number(limit.forMs ?? 10_000, 'rateLimit.forMs', 0, 3_600_000);
    next.rateLimit = { retryAfterSeconds, untilMs: now + forMs };
  }
  return next;
}

function bool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new RangeError(`${name} must be true or false`);
  return value;
}

function number(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}
