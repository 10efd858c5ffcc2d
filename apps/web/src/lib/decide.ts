import {
  conversation as decider,
  EVENT_TYPES,
  fold,
  isDomainError,
  type Conversation,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
} from '@parley/domain';
import type { EventRow, Refusal } from './db/schema';

/**
 * The domain's conversation decider, run on this device (decision 0019). The PWA never builds an
 * event itself: it gives the decider a command (time and ids passed in) and the conversation as it
 * knows it, and shows what the decider answers, exactly as the server will decide it.
 */

const KNOWN: ReadonlySet<string> = new Set(EVENT_TYPES.conversation);

/**
 * A stored conversation event as the domain's type. Stored rows came from the server's log (the
 * server's `decide`) or from this device's `decide`; a type this build does not know is left out.
 */
export function asConversationEvent(row: Pick<EventRow, 'type' | 'data'>): ConversationEvent | null {
  return KNOWN.has(row.type) ? ({ type: row.type, data: row.data } as unknown as ConversationEvent) : null;
}

/** The conversation as this device knows it: its stored events, in stream order, folded with `evolve`. */
export function localConversation(rows: readonly EventRow[]): ConversationState {
  const events = [...rows]
    .sort((a, b) => a.version - b.version)
    .flatMap((row) => asConversationEvent(row) ?? []);
  return fold(decider, decider.initialState(), events);
}

/** What the decider answered on this device: its events and the state they lead to, or its refusal. */
export type LocalDecision =
  | {
      readonly ok: true;
      readonly events: readonly ConversationEvent[];
      readonly state: ConversationState;
    }
  | ({ readonly ok: false } & Refusal);

/**
 * Runs `decide` on `state` and folds the result with `evolve`. A broken rule comes back as the
 * domain's refusal (code, rule, message, hint); anything else thrown is a bug and is rethrown.
 */
export function decideLocally(state: ConversationState, command: ConversationCommand): LocalDecision {
  try {
    const events = decider.decide(command, state);
    return { ok: true, events, state: fold(decider, state, events) };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return {
      ok: false,
      code: error.code,
      rule: error.details.rule ?? null,
      message: error.message,
      hint: error.details.hint ?? null,
    };
  }
}

/** What the inbox list knows of a conversation whose events this device has not fetched. */
export interface KnownConversation {
  readonly conversationId: string;
  readonly platform: Conversation['platform'];
  readonly lastCustomerMessageAt: number | null;
}

/**
 * The state to decide on when no events are stored yet (the list came from a resync and the
 * conversation was not opened since): what the list row knows, nothing else. A customer who never
 * wrote is taken to have written at the epoch, so every platform window is closed.
 */
export function conversationFromList(known: KnownConversation): Conversation {
  return {
    conversationId: known.conversationId,
    inboxId: '',
    platform: known.platform,
    contact: { id: '', name: '', handle: '' },
    status: { kind: 'open' },
    cycle: 0,
    lastCustomerMessageAt: known.lastCustomerMessageAt ?? 0,
    customerMessages: 0,
    awaitingCustomerSince: null,
    externalMessageIds: new Set(),
    replies: new Map(),
    platformMessageIds: new Map(),
    noteIds: new Set(),
    labels: [],
    assigneeId: null,
    priority: 'none',
  };
}
