/** Where one channel's breaker stands. */
export type BreakerState =
  | { readonly kind: 'closed'; readonly failures: number }
  | { readonly kind: 'open'; readonly until: number; readonly openMs: number }
  | { readonly kind: 'half-open'; readonly openMs: number };

/** A breaker's change, for logs and the developer panel. */
export interface BreakerTransition {
  readonly key: string;
  readonly from: BreakerState['kind'];
  readonly to: BreakerState['kind'];
  readonly at: number;
}

/** How quickly a breaker opens and how long it stays open. */
export interface BreakerOptions {
  /** Consecutive failures that open it. */
  readonly failureThreshold: number;
  /** How long it stays open the first time; doubled after each failed trial up to `maxOpenMs`. */
  readonly openMs: number;
  readonly maxOpenMs: number;
}

/**
 * A circuit breaker per channel, plus a pause for a platform's `Retry-After`. Open: nothing is sent.
 * After `openMs` one trial send is let through (half-open): success closes it, failure opens it again.
 */
export class CircuitBreakers {
  private readonly states = new Map<string, BreakerState>();
  private readonly pausedUntil = new Map<string, number>();

  constructor(
    private readonly options: BreakerOptions,
    private readonly onTransition: (transition: BreakerTransition) => void = () => undefined,
  ) {}

  /** Channels nothing may be claimed for now: open, paused, or half-open with a trial out. */
  blocked(now: number): string[] {
    const keys: string[] = [];
    for (const [key, state] of this.states) {
      if (state.kind === 'half-open' || (state.kind === 'open' && now < state.until)) keys.push(key);
    }
    for (const [key, until] of this.pausedUntil) {
      if (now < until) keys.push(key);
      else this.pausedUntil.delete(key);
    }
    return keys;
  }

  /** Takes permission to send one message now; an open breaker past its time lets one trial through. */
  tryAcquire(key: string, now: number): boolean {
    if ((this.pausedUntil.get(key) ?? 0) > now) return false;
    const state = this.state(key);
    switch (state.kind) {
      case 'closed':
        return true;
      case 'half-open':
        return false;
      case 'open':
        if (now < state.until) return false;
        this.set(key, { kind: 'half-open', openMs: state.openMs }, now);
        return true;
      default:
        return unreachable(state);
    }
  }

  /** Earliest time a blocked channel may be tried again, for the dispatcher's sleep. */
  nextChangeIn(now: number): number | undefined {
    let soonest: number | undefined;
    for (const state of this.states.values()) {
      if (state.kind === 'open') soonest = Math.min(soonest ?? Infinity, Math.max(0, state.until - now));
    }
    for (const until of this.pausedUntil.values())
      soonest = Math.min(soonest ?? Infinity, Math.max(0, until - now));
    return soonest;
  }

  success(key: string, now: number): void {
    const state = this.state(key);
    if (state.kind !== 'closed' || state.failures > 0) this.set(key, { kind: 'closed', failures: 0 }, now);
  }

  failure(key: string, now: number): void {
    const state = this.state(key);
    switch (state.kind) {
      case 'closed': {
        const failures = state.failures + 1;
        if (failures >= this.options.failureThreshold) {
          this.set(key, { kind: 'open', until: now + this.options.openMs, openMs: this.options.openMs }, now);
        } else this.set(key, { kind: 'closed', failures }, now);
        return;
      }
      case 'half-open':
      case 'open': {
        const openMs = Math.min(this.options.maxOpenMs, state.openMs * 2);
        this.set(key, { kind: 'open', until: now + openMs, openMs }, now);
        return;
      }
      default:
        unreachable(state);
    }
  }

  /** The trial's answer was neither success nor failure (a 429): let the next one try. */
  abandonTrial(key: string, now: number): void {
    const state = this.state(key);
    if (state.kind === 'half-open') this.set(key, { kind: 'open', until: now, openMs: state.openMs }, now);
  }

  /** Holds a channel until `until` (a 429's Retry-After) without counting a failure. */
  pause(key: string, until: number): void {
    this.pausedUntil.set(key, Math.max(until, this.pausedUntil.get(key) ?? 0));
  }

  /** Every channel's state, for the developer panel. */
  snapshot(now: number): Record<string, { state: BreakerState['kind']; pausedForMs: number }> {
    const out: Record<string, { state: BreakerState['kind']; pausedForMs: number }> = {};
    for (const key of new Set([...this.states.keys(), ...this.pausedUntil.keys()])) {
      out[key] = {
        state: this.state(key).kind,
        pausedForMs: Math.max(0, (this.pausedUntil.get(key) ?? 0) - now),
      };
    }
    return out;
  }

  state(key: string): BreakerState {
    return this.states.get(key) ?? { kind: 'closed', failures: 0 };
  }

  private set(key: string, next: BreakerState, now: number): void {
    const from = this.state(key).kind;
    this.states.set(key, next);
    if (from !== next.kind) this.onTransition({ key, from, to: next.kind, at: now });
  }
}

function unreachable(value: never): never {
  throw new TypeError(`unexpected breaker state ${JSON.stringify(value)}`);
}
