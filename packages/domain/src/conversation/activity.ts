import type { CardEvent } from '../card/types';
import { EVENT_TYPES } from '../event-types';
import type { AssignmentPolicy } from '../inbox/assignment';
import { assertNever } from '../shared/command';
import type { EpochMs } from '../shared/ids';
import { describeRefusal } from './client-commands';
import type { ConversationEvent, ConversationStatus, Priority } from './types';

/**
 * Who made a change, as the log names it: an agent (the event's `metadata.actor`), or nobody in
 * particular (a rule, the workflow engine, a customer's message): then `null`.
 */
export type ActivityBy = string | null;

/** One change of a conversation that its timeline shows as a line between the messages (rule AC1). */
export type Activity =
  | { readonly kind: 'resolved'; readonly by: ActivityBy }
  | { readonly kind: 'pending'; readonly by: ActivityBy }
  | {
      readonly kind: 'opened';
      readonly by: ActivityBy;
      readonly woke: boolean;
      readonly byCustomer: boolean;
    }
  | {
      readonly kind: 'reopened';
      readonly by: ActivityBy;
      readonly cycle: number;
      readonly byCustomer: boolean;
    }
  | { readonly kind: 'snoozed'; readonly by: ActivityBy; readonly until: EpochMs }
  | {
      readonly kind: 'assigned';
      readonly by: ActivityBy;
      readonly agentId: string;
      readonly policy: AssignmentPolicy | null;
    }
  | { readonly kind: 'unassigned'; readonly by: ActivityBy; readonly agentId: string }
  | { readonly kind: 'label-added' | 'label-removed'; readonly by: ActivityBy; readonly label: string }
  | { readonly kind: 'priority'; readonly by: ActivityBy; readonly priority: Priority }
  | { readonly kind: 'stage'; readonly by: ActivityBy; readonly stageId: string; readonly entered: boolean }
  | {
      readonly kind: 'reply-failed';
      readonly clientMessageId: string;
      readonly reason: string;
      readonly hint: string | null;
    };

const CARD_EVENTS: ReadonlySet<string> = new Set(EVENT_TYPES.card);

/** An event of a conversation's log (or of its card's) with the agent the metadata names. */
export interface LoggedEvent {
  readonly event: ConversationEvent | CardEvent;
  /** `metadata.actor.id` when `metadata.actor.kind` is `agent`; else null. */
  readonly by: ActivityBy;
}

/** An activity line at its time; `position` is its event's index in the list given (ties, CV14). */
export interface ActivityEntry {
  readonly activity: Activity;
  readonly at: EpochMs;
  readonly position: number;
}

/** The agent an event's metadata names (`{ actor: { kind: 'agent', id } }`), or null. */
export function actorOf(metadata: unknown): ActivityBy {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const actor = (metadata as { actor?: unknown }).actor;
  if (typeof actor !== 'object' || actor === null) return null;
  const { kind, id } = actor as { kind?: unknown; id?: unknown };
  return kind === 'agent' && typeof id === 'string' ? id : null;
}

/**
 * The activity lines of a conversation (AC1), from its events and its card's in log order: status
 * changes (a resolved conversation opened again is one "reopened" line with its new cycle, AC2),
 * snoozes, assignments with the policy that chose (AC3), labels, priority, board stages (AC4) and
 * replies that failed (AC5). Messages, notes, read marks and deliveries are not activity.
 */
export function conversationActivity(events: readonly LoggedEvent[]): ActivityEntry[] {
  const entries: ActivityEntry[] = [];
  let status: ConversationStatus['kind'] = 'open';
  let cycle = 0;
  // A change is never shown before one that came earlier in the same log: a reopening takes the
  // platform's time of the customer's message, which may be behind the server's clock (AC1).
  const latest = { conversation: -Infinity, card: -Infinity };
  events.forEach(({ event, by }, position) => {
    const log = CARD_EVENTS.has(event.type) ? 'card' : 'conversation';
    const add = (activity: Activity, at: EpochMs) => {
      latest[log] = Math.max(latest[log], at);
      entries.push({ activity, at: latest[log], position });
    };
    switch (event.type) {
      case 'StatusChanged': {
        const { status: next, reason, at } = event.data;
        const was = status;
        status = next.kind;
        const who = reason === 'agent' ? by : null;
        switch (next.kind) {
          case 'resolved':
            return add({ kind: 'resolved', by: who }, at);
          case 'pending':
            return add({ kind: 'pending', by: who }, at);
          case 'snoozed':
            return add({ kind: 'snoozed', by: who, until: next.until }, at);
          case 'open':
            // AC2: leaving resolved starts a cycle; said once, with the cycle's number.
            if (was === 'resolved') {
              cycle += 1;
              return add({ kind: 'reopened', by: who, cycle, byCustomer: reason === 'customer-message' }, at);
            }
            return add(
              {
                kind: 'opened',
                by: who,
                woke: reason === 'snooze-ended',
                byCustomer: reason === 'customer-message',
              },
              at,
            );
          default:
            return assertNever(next);
        }
      }
      case 'CycleStarted':
        cycle = event.data.cycle;
        return;
      case 'ConversationAssigned': {
        const { agentId, policy, at } = event.data;
        return add({ kind: 'assigned', by: policy ? null : by, agentId, policy: policy ?? null }, at);
      }
      case 'ConversationUnassigned':
        return add({ kind: 'unassigned', by, agentId: event.data.agentId }, event.data.at);
      case 'LabelAdded':
        return add({ kind: 'label-added', by, label: event.data.label }, event.data.at);
      case 'LabelRemoved':
        return add({ kind: 'label-removed', by, label: event.data.label }, event.data.at);
      case 'PriorityChanged':
        return add({ kind: 'priority', by, priority: event.data.priority }, event.data.at);
      case 'ReplyFailed': {
        const { clientMessageId, reason, hint, at } = event.data;
        return add({ kind: 'reply-failed', clientMessageId, reason, hint: hint ?? null }, at);
      }
      case 'CardEnteredWorkflow':
        return add({ kind: 'stage', by, stageId: event.data.stageId, entered: true }, event.data.at);
      case 'CardMoved':
        return add({ kind: 'stage', by, stageId: event.data.toStageId, entered: false }, event.data.at);
      default:
        return;
    }
  });
  return entries;
}

/** How an activity line names things: agents ("You" for the reader), stages and times. */
export interface ActivityWords {
  agent(agentId: string): string;
  stage(stageId: string): string;
  time(at: EpochMs): string;
}

const POLICY_WORDS: Readonly<Record<AssignmentPolicy, string>> = {
  'round-robin': 'round robin',
  weighted: 'weighted assignment',
  'least-busy': 'least busy',
};

/** Why a reply failed, as a sentence fragment: the rule's words for a refusal, else the platform's code. */
export function failureReason(reason: string): string {
  const described = describeRefusal(reason);
  if (described.message !== describeRefusal('').message) return lowerFirst(described.message);
  return `the platform did not take it (${reason})`;
}

/** An activity line in words (AC1): "Resolved by Ana", "Assigned to Ben by round robin". */
export function activityText(activity: Activity, words: ActivityWords): string {
  const by = (agentId: ActivityBy) => (agentId === null ? '' : ` by ${words.agent(agentId)}`);
  switch (activity.kind) {
    case 'resolved':
      return `Resolved${by(activity.by)}`;
    case 'pending':
      return `Marked pending${by(activity.by)}`;
    case 'opened':
      if (activity.woke) return 'Snooze ended — open again';
      return activity.byCustomer ? 'Opened by a customer message' : `Marked open${by(activity.by)}`;
    case 'reopened':
      return `Reopened${activity.byCustomer ? ' by a customer message' : by(activity.by)} — new cycle (${activity.cycle})`;
    case 'snoozed':
      return `Snoozed until ${words.time(activity.until)}${by(activity.by)}`;
    case 'assigned':
      return activity.policy
        ? `Assigned to ${words.agent(activity.agentId)} by ${POLICY_WORDS[activity.policy]}`
        : `Assigned to ${words.agent(activity.agentId)}${by(activity.by)}`;
    case 'unassigned':
      return `Unassigned from ${words.agent(activity.agentId)}${by(activity.by)}`;
    case 'label-added':
      return `Label ${activity.label} added${by(activity.by)}`;
    case 'label-removed':
      return `Label ${activity.label} removed${by(activity.by)}`;
    case 'priority':
      return activity.priority === 'none'
        ? `Priority cleared${by(activity.by)}`
        : `Priority set to ${activity.priority}${by(activity.by)}`;
    case 'stage':
      return `${activity.entered ? 'Put on the board in' : 'Moved to'} ${words.stage(activity.stageId)}${by(activity.by)}`;
    case 'reply-failed':
      return `Reply failed: ${failureReason(activity.reason)}`;
    default:
      return assertNever(activity);
  }
}

function lowerFirst(text: string): string {
  // "The 24-hour window has closed" reads "the 24-hour window has closed" after a colon.
  return text.slice(0, 1).toLowerCase() + text.slice(1);
}
