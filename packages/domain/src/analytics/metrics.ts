import type { ConversationEvent, ConversationStatus, Priority } from '../conversation/types';
import type { Platform } from '../platforms/policy';
import { assertNever } from '../shared/command';
import type { Actor, DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';
import { businessMsBetween, type BusinessSchedule } from './business-hours';

/** What an SLA measures: first response, next response and resolution. */
export type SlaTarget = 'firstResponse' | 'nextResponse' | 'resolution';

/**
 * An SLA target of a cycle ran past its due time (rule SL5). Decided by `decideSlaBreaches`; the
 * server appends it to the conversation's stream, and `evolveMetrics` folds it so it is decided once.
 */
export type SlaBreached = DomainEvent<
  'SlaBreached',
  { cycle: number; target: SlaTarget; policyId: string; dueAt: EpochMs; at: EpochMs }
>;

/** What the metrics fold reads: the conversation's events and SLA breaches. */
export type MetricsEvent = ConversationEvent | SlaBreached;

/** A span measured both ways: calendar ms, and ms within the inbox's business hours (calendar without a schedule). */
export interface Duration {
  readonly calendarMs: number;
  readonly businessMs: number;
}

/** One customer wait that a human reply ended (MT2, MT3). */
export interface ResponseFact extends Duration {
  readonly kind: 'first' | 'next';
  /** The customer message that started the wait (its platform time). */
  readonly customerAt: EpochMs;
  /** When the human reply was queued (a reply counts once queued, as in CV12). */
  readonly repliedAt: EpochMs;
  readonly agentId: string;
  readonly clientMessageId: string;
}

/** A span the conversation spent pending or snoozed (waiting on the customer); `to` null while it lasts. */
export interface Pause {
  readonly from: EpochMs;
  readonly to: EpochMs | null;
}

/** The facts of one cycle (from `CycleStarted` to `CycleEnded`), from which every report is computed. */
export interface CycleFacts {
  readonly cycle: number;
  readonly startedAt: EpochMs;
  /** A cycle after the first: the conversation left resolved (MT1). */
  readonly reopened: boolean;
  readonly resolvedAt: EpochMs | null;
  /** Cycle start to resolved (MT4); null while the cycle is open. */
  readonly resolution: Duration | null;
  /** The first customer message of the cycle; null if none came yet. */
  readonly firstCustomerAt: EpochMs | null;
  /** The customer message waiting for a human reply (the first since the last human reply); null if none waits. */
  readonly waitingSince: EpochMs | null;
  /** Human replies that ended a wait, in order; the first of the cycle has kind `first`. */
  readonly responses: readonly ResponseFact[];
  readonly lastHumanReplyAt: EpochMs | null;
  readonly messagesIn: number;
  /** Replies queued (by people and bots) that have not failed. */
  readonly messagesOut: number;
  readonly pauses: readonly Pause[];
  readonly slaBreached: readonly SlaTarget[];
  /** Who was assigned when the cycle ended (or now). */
  readonly assigneeId: string | null;
}

/**
 * The metrics of one conversation: the dimensions reports slice by, and its cycles. Plain JSON,
 * so a projection can store it. Made by `initialMetricsState`, advanced by `evolveMetrics`.
 */
export interface MetricsState {
  readonly schedule: BusinessSchedule | null;
  readonly conversationId: string | null;
  readonly inboxId: string | null;
  readonly platform: Platform | null;
  readonly status: ConversationStatus['kind'];
  readonly priority: Priority;
  readonly labels: readonly string[];
  readonly assigneeId: string | null;
  readonly cycles: readonly CycleFacts[];
  /** Reply id -> its cycle and whether a person sent it, for failures. */
  readonly replies: Readonly<Record<string, { readonly cycle: number; readonly human: boolean }>>;
}

/** The state before any event; `schedule` is the inbox's business hours (null: business time is calendar time). */
export function initialMetricsState(schedule: BusinessSchedule | null = null): MetricsState {
  return {
    schedule,
    conversationId: null,
    inboxId: null,
    platform: null,
    status: 'open',
    priority: 'none',
    labels: [],
    assigneeId: null,
    cycles: [],
    replies: {},
  };
}

/** A reply stops a response clock only when a person sent it (MT5): an agent actor, not a bot or the system. */
export function isHumanReply(actor: Actor | null | undefined): boolean {
  return actor?.kind === 'agent';
}

/** The span [from, to) as calendar and business ms (MT6). */
export function durationOf(schedule: BusinessSchedule | null, from: EpochMs, to: EpochMs): Duration {
  const calendarMs = Math.max(0, to - from);
  return { calendarMs, businessMs: schedule ? businessMsBetween(schedule, from, to) : calendarMs };
}

/** The current (latest) cycle; null before the first. */
export function currentCycle(state: MetricsState): CycleFacts | null {
  return state.cycles[state.cycles.length - 1] ?? null;
}

/**
 * Folds one event into the metrics (rules MT1-MT8). `actor` is the event's actor from its
 * metadata: it tells a person's reply from a bot's.
 */
export function evolveMetrics(
  state: MetricsState,
  event: MetricsEvent,
  actor: Actor | null = null,
): MetricsState {
  switch (event.type) {
    case 'ConversationStarted': {
      const { conversationId, inboxId, platform } = event.data;
      return { ...state, conversationId, inboxId, platform };
    }
    case 'CycleStarted': {
      const { cycle, at } = event.data;
      const paused = state.status === 'pending' || state.status === 'snoozed';
      const facts: CycleFacts = {
        cycle,
        startedAt: at,
        reopened: cycle > 1,
        resolvedAt: null,
        resolution: null,
        firstCustomerAt: null,
        waitingSince: null,
        responses: [],
        lastHumanReplyAt: null,
        messagesIn: 0,
        messagesOut: 0,
        pauses: paused ? [{ from: at, to: null }] : [],
        slaBreached: [],
        assigneeId: state.assigneeId,
      };
      return { ...state, cycles: [...state.cycles, facts] };
    }
    case 'CycleEnded': {
      const { cycle, at } = event.data;
      return withCycle(state, cycle, (facts) => ({
        ...facts,
        resolvedAt: at,
        resolution: durationOf(state.schedule, facts.startedAt, at),
        pauses: endPause(facts.pauses, at),
      }));
    }
    case 'InboundMessageReceived': {
      const { sentAt } = event.data;
      return withCurrent(state, (facts) => {
        // A late webhook for a message sent before our last human reply was answered by it (MT7).
        const answered = facts.lastHumanReplyAt !== null && sentAt <= facts.lastHumanReplyAt;
        const starts = facts.waitingSince === null && !answered;
        return {
          ...facts,
          messagesIn: facts.messagesIn + 1,
          firstCustomerAt: facts.firstCustomerAt === null ? sentAt : Math.min(facts.firstCustomerAt, sentAt),
          waitingSince: starts
            ? sentAt
            : facts.waitingSince === null
              ? null
              : Math.min(facts.waitingSince, sentAt),
        };
      });
    }
    case 'ReplyQueued': {
      const { clientMessageId, agentId, queuedAt } = event.data;
      const human = isHumanReply(actor);
      const cycle = currentCycle(state);
      if (!cycle || state.replies[clientMessageId]) return state;
      const replies = { ...state.replies, [clientMessageId]: { cycle: cycle.cycle, human } };
      return {
        ...withCurrent(state, (facts) => {
          const next = { ...facts, messagesOut: facts.messagesOut + 1 };
          if (!human) return next;
          const waited = facts.waitingSince;
          if (waited === null)
            return { ...next, lastHumanReplyAt: Math.max(queuedAt, facts.lastHumanReplyAt ?? 0) };
          const response: ResponseFact = {
            kind: facts.responses.length === 0 ? 'first' : 'next',
            customerAt: waited,
            repliedAt: queuedAt,
            agentId,
            clientMessageId,
            ...durationOf(state.schedule, waited, queuedAt),
          };
          return {
            ...next,
            waitingSince: null,
            lastHumanReplyAt: queuedAt,
            responses: [...facts.responses, response],
          };
        }),
        replies,
      };
    }
    case 'ReplyFailed': {
      const reply = state.replies[event.data.clientMessageId];
      if (!reply) return state;
      return withCycle(state, reply.cycle, (facts) => {
        const next = { ...facts, messagesOut: Math.max(0, facts.messagesOut - 1) };
        const last = facts.responses[facts.responses.length - 1];
        // A failed reply never reached the customer: the wait it ended goes on (MT8), unless they wrote since.
        if (!last || last.clientMessageId !== event.data.clientMessageId || facts.waitingSince !== null) {
          return next;
        }
        const responses = facts.responses.slice(0, -1);
        return {
          ...next,
          responses,
          waitingSince: last.customerAt,
          lastHumanReplyAt: responses[responses.length - 1]?.repliedAt ?? null,
        };
      });
    }
    case 'StatusChanged': {
      const { status, at } = event.data;
      const waiting = status.kind === 'pending' || status.kind === 'snoozed';
      const next = { ...state, status: status.kind };
      if (!currentCycle(state) || status.kind === 'resolved') return next;
      return withCurrent(next, (facts) => {
        if (facts.resolvedAt !== null) return facts;
        const open = facts.pauses[facts.pauses.length - 1]?.to === null;
        if (waiting && !open) return { ...facts, pauses: [...facts.pauses, { from: at, to: null }] };
        if (!waiting && open) return { ...facts, pauses: endPause(facts.pauses, at) };
        return facts;
      });
    }
    case 'ConversationAssigned':
      return withCurrentIfOpen({ ...state, assigneeId: event.data.agentId }, (facts) => ({
        ...facts,
        assigneeId: event.data.agentId,
      }));
    case 'ConversationUnassigned':
      return withCurrentIfOpen({ ...state, assigneeId: null }, (facts) => ({ ...facts, assigneeId: null }));
    case 'LabelAdded':
      return { ...state, labels: [...state.labels, event.data.label] };
    case 'LabelRemoved':
      return { ...state, labels: state.labels.filter((label) => label !== event.data.label) };
    case 'PriorityChanged':
      return { ...state, priority: event.data.priority };
    case 'SlaBreached': {
      const { cycle, target } = event.data;
      return withCycle(state, cycle, (facts) =>
        facts.slaBreached.includes(target)
          ? facts
          : { ...facts, slaBreached: [...facts.slaBreached, target] },
      );
    }
    case 'ReplySending':
    case 'ReplySent':
    case 'ReplyDelivered':
    case 'ReplyRead':
    case 'NoteAdded':
    case 'ConversationRead':
      return state;
    default:
      return assertNever(event);
  }
}

function endPause(pauses: readonly Pause[], at: EpochMs): readonly Pause[] {
  const last = pauses[pauses.length - 1];
  if (!last || last.to !== null) return pauses;
  return [...pauses.slice(0, -1), { from: last.from, to: Math.max(at, last.from) }];
}

function withCycle(
  state: MetricsState,
  cycle: number,
  change: (facts: CycleFacts) => CycleFacts,
): MetricsState {
  const index = state.cycles.findIndex((facts) => facts.cycle === cycle);
  const facts = state.cycles[index];
  if (!facts) return state;
  const cycles = [...state.cycles];
  cycles[index] = change(facts);
  return { ...state, cycles };
}

function withCurrent(state: MetricsState, change: (facts: CycleFacts) => CycleFacts): MetricsState {
  const facts = currentCycle(state);
  return facts ? withCycle(state, facts.cycle, change) : state;
}

function withCurrentIfOpen(state: MetricsState, change: (facts: CycleFacts) => CycleFacts): MetricsState {
  const facts = currentCycle(state);
  return facts && facts.resolvedAt === null ? withCycle(state, facts.cycle, change) : state;
}
