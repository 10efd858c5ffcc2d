import { streamCategory } from '@parley/domain';
import type { DomainEvent, EpochMs, RecordedEvent, TenantId } from '@parley/domain';

/**
 * The conversation events the read models need, in the shape the projections read them.
 * `applyConversationEvent` is the one place that knows these names, so pointing the projections
 * at the domain's own conversation events means changing this union and that function only.
 */
export type ConversationEvent =
  | DomainEvent<'ConversationStarted', { inboxId: string; at: EpochMs }>
  | DomainEvent<'MessageReceived', { messageId: string; text: string; at: EpochMs }>
  | DomainEvent<'ReplySent', { messageId: string; text: string; at: EpochMs }>
  | DomainEvent<'ConversationRead', { at: EpochMs }>
  | DomainEvent<'ConversationAssigned', { assigneeId: string; at: EpochMs }>
  | DomainEvent<'ConversationUnassigned', { at: EpochMs }>
  | DomainEvent<'ConversationClosed', { at: EpochMs }>
  | DomainEvent<'ConversationReopened', { at: EpochMs }>;

/** The stream category of conversations. */
export const CONVERSATION_CATEGORY = 'conversation';

const EVENT_TYPES: Readonly<Record<ConversationEvent['type'], true>> = {
  ConversationStarted: true,
  MessageReceived: true,
  ReplySent: true,
  ConversationRead: true,
  ConversationAssigned: true,
  ConversationUnassigned: true,
  ConversationClosed: true,
  ConversationReopened: true,
};

/** Characters of a message kept for the inbox list. */
export const PREVIEW_LENGTH = 140;

/** How long after a customer's last message a free-form reply may be sent (WhatsApp's 24 hours). */
export const REPLY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** One conversation as the inbox list and agent load see it. */
export interface ConversationSummary {
  readonly tenantId: TenantId;
  readonly conversationId: string;
  readonly inboxId: string;
  readonly status: 'open' | 'closed';
  readonly assigneeId: string | null;
  /** Customer messages since an agent last read or answered. */
  readonly unreadCount: number;
  readonly lastMessage: {
    readonly preview: string;
    readonly at: EpochMs;
    readonly from: 'customer' | 'agent';
  } | null;
  /** When a free-form reply stops being allowed; null until the customer writes. */
  readonly windowClosesAt: EpochMs | null;
  /** Last time anything happened, for sorting the list. */
  readonly lastActivityAt: EpochMs;
  /** The conversation stream's version this summary includes. */
  readonly version: number;
}

/** A recorded event of a conversation stream, typed as one of the events above. */
export type ConversationRecordedEvent = RecordedEvent<ConversationEvent> & ConversationEvent;

/** True for an event of a conversation stream whose type the projections know. */
export function isConversationEvent(event: RecordedEvent): event is ConversationRecordedEvent {
  return streamCategory(event.streamId) === CONVERSATION_CATEGORY && Object.hasOwn(EVENT_TYPES, event.type);
}

/** Folds one conversation event into its summary; a stream that did not start with `ConversationStarted` has none. */
export function applyConversationEvent(
  summary: ConversationSummary | undefined,
  event: ConversationRecordedEvent,
): ConversationSummary | undefined {
  if (event.type === 'ConversationStarted') {
    return {
      tenantId: event.tenantId,
      conversationId: event.streamId.slice(CONVERSATION_CATEGORY.length + 1),
      inboxId: event.data.inboxId,
      status: 'open',
      assigneeId: null,
      unreadCount: 0,
      lastMessage: null,
      windowClosesAt: null,
      lastActivityAt: event.data.at,
      version: event.version,
    };
  }
  if (!summary) return undefined;
  const base = {
    ...summary,
    version: event.version,
    lastActivityAt: Math.max(summary.lastActivityAt, event.data.at),
  };
  switch (event.type) {
    case 'MessageReceived':
      return {
        ...base,
        unreadCount: summary.unreadCount + 1,
        lastMessage: { preview: preview(event.data.text), at: event.data.at, from: 'customer' },
        windowClosesAt: event.data.at + REPLY_WINDOW_MS,
      };
    case 'ReplySent':
      return {
        ...base,
        unreadCount: 0,
        lastMessage: { preview: preview(event.data.text), at: event.data.at, from: 'agent' },
      };
    case 'ConversationRead':
      return { ...base, unreadCount: 0 };
    case 'ConversationAssigned':
      return { ...base, assigneeId: event.data.assigneeId };
    case 'ConversationUnassigned':
      return { ...base, assigneeId: null };
    case 'ConversationClosed':
      return { ...base, status: 'closed' };
    case 'ConversationReopened':
      return { ...base, status: 'open' };
    default:
      return unreachable(event);
  }
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= PREVIEW_LENGTH ? flat : `${flat.slice(0, PREVIEW_LENGTH - 1)}…`;
}

function unreachable(value: never): never {
  throw new TypeError(`unknown conversation event ${JSON.stringify(value)}`);
}
