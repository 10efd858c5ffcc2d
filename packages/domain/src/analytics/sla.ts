import type { Priority } from '../conversation/types';
import type { EpochMs } from '../shared/ids';
import { addBusinessMs, businessMsBetween, type BusinessSchedule } from './business-hours';
import {
  currentCycle,
  type CycleFacts,
  type MetricsState,
  type Pause,
  type SlaBreached,
  type SlaTarget,
} from './metrics';

export const SLA_TARGETS: readonly SlaTarget[] = ['firstResponse', 'nextResponse', 'resolution'];

/**
 * An SLA policy (SL1): targets in ms of clock time, the conversations it applies to, how its clock
 * runs. Plain JSON.
 */
export interface SlaPolicy {
  readonly id: string;
  /** Applies to these priorities (empty: any priority). */
  readonly priorities: readonly Priority[];
  /** Applies when the conversation has any of these labels (empty: any labels). */
  readonly labels: readonly string[];
  /** A target absent (or null) is not measured. */
  readonly targets: Readonly<Partial<Record<SlaTarget, number | null>>>;
  /** `business`: the clock runs in the inbox's business hours; `calendar`: 24/7. */
  readonly hours: 'business' | 'calendar';
  /** The clock stops while the conversation is pending or snoozed (waiting on the customer). */
  readonly pauseWhileWaitingOnCustomer: boolean;
}

/** One target's clock (SL2-SL4). */
export interface SlaClock {
  readonly target: SlaTarget;
  readonly targetMs: number;
  /** When the clock started (the customer message, or the cycle's start). */
  readonly startedAt: EpochMs;
  /** When the clock stopped (reply or resolution); null while it runs. */
  readonly stoppedAt: EpochMs | null;
  /** When it is (or was) due; null while paused before its due time. */
  readonly dueAt: EpochMs | null;
  /** Clock time left (business ms for business hours): negative once overdue. */
  readonly remainingMs: number;
  readonly paused: boolean;
  readonly breached: boolean;
}

/** The first policy, in order, that applies to the conversation's priority and labels (SL1); null if none. */
export function selectSlaPolicy(
  policies: readonly SlaPolicy[],
  conversation: { readonly priority: Priority; readonly labels: readonly string[] },
): SlaPolicy | null {
  return (
    policies.find(
      (policy) =>
        (policy.priorities.length === 0 || policy.priorities.includes(conversation.priority)) &&
        (policy.labels.length === 0 || policy.labels.some((label) => conversation.labels.includes(label))),
    ) ?? null
  );
}

/**
 * The live SLA clocks of the conversation's current cycle at `nowMs` (SL2-SL4), one per measured
 * target that has started. Next response shows the wait that runs, or else the latest answered one.
 */
export function slaStatus(policy: SlaPolicy, state: MetricsState, nowMs: EpochMs): SlaClock[] {
  const facts = currentCycle(state);
  if (!facts) return [];
  const schedule = policy.hours === 'business' ? state.schedule : null;
  const clocks: SlaClock[] = [];
  for (const target of SLA_TARGETS) {
    const targetMs = policy.targets[target];
    if (targetMs === undefined || targetMs === null) continue;
    const spans = spansOf(target, facts);
    // Next response shows the wait that runs, or else the latest answered one.
    const span = spans.find((candidate) => candidate.stop === null) ?? spans[spans.length - 1];
    if (span) clocks.push(clockOf(target, targetMs, span, schedule, policy, facts, nowMs));
  }
  return clocks;
}

/**
 * The `SlaBreached` events due at `nowMs` for the current cycle (SL5): one per target that ran past
 * its due time (for next response, any wait of the cycle) and was not recorded as breached yet.
 * Pure: the server appends them and folds them back, which is what keeps them to one per target
 * per cycle.
 */
export function decideSlaBreaches(policy: SlaPolicy, state: MetricsState, nowMs: EpochMs): SlaBreached[] {
  const facts = currentCycle(state);
  if (!facts) return [];
  const schedule = policy.hours === 'business' ? state.schedule : null;
  const events: SlaBreached[] = [];
  for (const target of SLA_TARGETS) {
    const targetMs = policy.targets[target];
    if (targetMs === undefined || targetMs === null || facts.slaBreached.includes(target)) continue;
    for (const span of spansOf(target, facts)) {
      const clock = clockOf(target, targetMs, span, schedule, policy, facts, nowMs);
      if (clock.breached && clock.dueAt !== null) {
        events.push({
          type: 'SlaBreached',
          data: { cycle: facts.cycle, target, policyId: policy.id, dueAt: clock.dueAt, at: nowMs },
        });
        break;
      }
    }
  }
  return events;
}

interface Span {
  readonly start: EpochMs;
  readonly stop: EpochMs | null;
}

/** The clock spans of a target in a cycle. Resolving stops every clock (SL4). */
function spansOf(target: SlaTarget, facts: CycleFacts): Span[] {
  const resolved = facts.resolvedAt;
  const stop = (at: EpochMs | null) =>
    at === null ? resolved : resolved === null ? at : Math.min(at, resolved);
  switch (target) {
    case 'firstResponse': {
      if (facts.firstCustomerAt === null) return [];
      const first = facts.responses.find((response) => response.kind === 'first');
      return [{ start: facts.firstCustomerAt, stop: stop(first ? first.repliedAt : null) }];
    }
    case 'nextResponse': {
      const spans: Span[] = facts.responses
        .filter((response) => response.kind === 'next')
        .map((response) => ({ start: response.customerAt, stop: stop(response.repliedAt) }));
      if (facts.waitingSince !== null && facts.responses.length > 0) {
        spans.push({ start: facts.waitingSince, stop: stop(null) });
      }
      return spans;
    }
    case 'resolution':
      return [{ start: facts.startedAt, stop: resolved }];
    default:
      return [];
  }
}

/** Clock time between two instants: business or calendar ms, minus the pauses if the policy pauses. */
function clockOf(
  target: SlaTarget,
  targetMs: number,
  span: Span,
  schedule: BusinessSchedule | null,
  policy: SlaPolicy,
  facts: CycleFacts,
  nowMs: EpochMs,
): SlaClock {
  const pauses = policy.pauseWhileWaitingOnCustomer ? facts.pauses : [];
  const end = span.stop ?? nowMs;
  const running = runningSegments(span.start, pauses);
  const measure = (from: EpochMs, to: EpochMs) =>
    schedule ? businessMsBetween(schedule, from, to) : Math.max(0, to - from);
  let elapsed = 0;
  for (const [from, to] of running) {
    if (from >= end) break;
    elapsed += measure(from, Math.min(to ?? end, end));
  }
  const dueAt = dueOf(running, targetMs, schedule);
  const paused = span.stop === null && pauses.some((pause) => pause.to === null && pause.from <= nowMs);
  return {
    target,
    targetMs,
    startedAt: span.start,
    stoppedAt: span.stop,
    dueAt,
    remainingMs: targetMs - elapsed,
    paused,
    breached: dueAt !== null && end > dueAt,
  };
}

/** [start, ∞) without the pauses: the segments where the clock runs; the last has `to` null if open-ended. */
function runningSegments(start: EpochMs, pauses: readonly Pause[]): [EpochMs, EpochMs | null][] {
  const segments: [EpochMs, EpochMs | null][] = [];
  let cursor: EpochMs | null = start;
  for (const pause of [...pauses].sort((a, b) => a.from - b.from)) {
    if (cursor === null) break;
    if (pause.to !== null && pause.to <= cursor) continue;
    if (pause.from > cursor) segments.push([cursor, pause.from]);
    cursor = pause.to === null ? null : Math.max(cursor, pause.to);
  }
  if (cursor !== null) segments.push([cursor, null]);
  return segments;
}

/** When the running segments accumulate `targetMs` of clock time; null if a pause without end comes first. */
function dueOf(
  running: readonly [EpochMs, EpochMs | null][],
  targetMs: number,
  schedule: BusinessSchedule | null,
): EpochMs | null {
  let remaining = targetMs;
  for (const [from, to] of running) {
    const capacity =
      to === null ? Number.POSITIVE_INFINITY : schedule ? businessMsBetween(schedule, from, to) : to - from;
    if (remaining <= capacity) return schedule ? addBusinessMs(schedule, from, remaining) : from + remaining;
    remaining -= capacity;
  }
  return null;
}
