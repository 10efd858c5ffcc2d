import {
  assertNever,
  contentLine,
  policyFor,
  StreamCategory,
  streamCategory,
  windowDeadline,
} from '@parley/domain';
import type {
  ConversationEvent,
  ConversationStatus,
  Contact,
  EpochMs,
  InboundContent,
  Platform,
  Priority,
  RecordedEvent,
  ReplyContent,
  TenantId,
} from '@parley/domain';

/** Every conversation event type; the `Record` makes a new domain event a compile error here. */
const EVENT_TYPES: Readonly<Record<ConversationEvent['type'], true>> = {
  ConversationStarted: true,
  CycleStarted: true,
  CycleEnded: true,
  InboundMessageReceived: true,
  ReplyQueued: true,
  ReplySending: true,
  ReplySent: true,
  ReplyFailed: true,
  ReplyDelivered: true,
  ReplyRead: true,
  NoteAdded: true,
  LabelAdded: true,
  LabelRemoved: true,
  ConversationAssigned: true,
  ConversationUnassigned: true,
  StatusChanged: true,
  PriorityChanged: true,
};

/** Characters of a message kept for the inbox list. */
export const PREVIEW_LENGTH = 140;

/** The latest message of a conversation, as the inbox list shows it. */
export interface MessagePreview {
  /** One line of text; `[image]` (plus its caption) for media; the template's name for a template. */
  readonly preview: string;
  readonly at: EpochMs;
  readonly from: 'customer' | 'agent';
}

/** One conversation as the inbox list and agent load see it. */
export interface ConversationSummary {
  readonly tenantId: TenantId;
  readonly conversationId: string;
  readonly inboxId: string;
  readonly platform: Platform;
  /** The customer as their latest message named them; for search. */
  readonly contact: Contact;
  readonly status: ConversationStatus['kind'];
  /** When a snoozed conversation wakes up; null unless snoozed. */
  readonly snoozedUntil: EpochMs | null;
  readonly assigneeId: string | null;
  readonly labels: readonly string[];
  readonly priority: Priority;
  /** The current cycle (1 from the first message; a new one each time it leaves resolved). */
  readonly cycle: number;
  /**
   * Customer messages since an agent last answered: a queued reply resets it (a reply counts once
   * queued, as in the domain's rule CV12). The domain records no "agent read the conversation"
   * event, so opening a conversation does not reset it.
   */
  readonly unreadCount: number;
  /** The latest message by its own timestamp; null until one is known. */
  readonly lastMessage: MessagePreview | null;
  /** The customer's latest platform timestamp, where the platform's reply window starts. */
  readonly lastCustomerMessageAt: EpochMs;
  /** When a free-form reply stops being allowed (`windowDeadline`); null on platforms without a window. */
  readonly windowClosesAt: EpochMs | null;
  /** Last time anything happened, for sorting the list. */
  readonly lastActivityAt: EpochMs;
  /** The conversation stream's version this summary includes. */
  readonly version: number;
}

/** A recorded event of a conversation stream, typed as one of the domain's conversation events. */
export type ConversationRecordedEvent = RecordedEvent<ConversationEvent> & ConversationEvent;

/** True for an event of a conversation stream whose type the domain defines. */
export function isConversationEvent(event: RecordedEvent): event is ConversationRecordedEvent {
  return (
    streamCategory(event.streamId) === StreamCategory.conversation && Object.hasOwn(EVENT_TYPES, event.type)
  );
}

/** Folds one event into its conversation's summary; a stream not begun by `ConversationStarted` has none. */
export function applyConversationEvent(
  summary: ConversationSummary | undefined,
  event: ConversationRecordedEvent,
): ConversationSummary | undefined {
  if (event.type === 'ConversationStarted') {
    const { conversationId, inboxId, platform, contact, at } = event.data;
    return {
      tenantId: event.tenantId,
      conversationId,
      inboxId,
      platform,
      contact,
      status: 'open',
      snoozedUntil: null,
      assigneeId: null,
      labels: [],
      priority: 'none',
      cycle: 0,
      unreadCount: 0,
      lastMessage: null,
      // As in the domain: the first message's time opens the window until that message is folded in.
      lastCustomerMessageAt: at,
      windowClosesAt: windowDeadline(policyFor(platform), at),
      lastActivityAt: at,
      version: event.version,
    };
  }
  if (!summary) return undefined;
  const at = occurredAt(event);
  const base: ConversationSummary = {
    ...summary,
    version: event.version,
    lastActivityAt: Math.max(summary.lastActivityAt, at),
  };
  switch (event.type) {
    case 'InboundMessageReceived': {
      const { contact, content, sentAt } = event.data;
      // Platform timestamps can arrive out of order (webhook retries): the window never moves back.
      const lastCustomerMessageAt = Math.max(summary.lastCustomerMessageAt, sentAt);
      return {
        ...base,
        contact,
        unreadCount: summary.unreadCount + 1,
        lastMessage: latest(summary.lastMessage, { preview: preview(content), at: sentAt, from: 'customer' }),
        lastCustomerMessageAt,
        windowClosesAt: windowDeadline(policyFor(summary.platform), lastCustomerMessageAt),
      };
    }
    case 'ReplyQueued': {
      const { content, queuedAt } = event.data;
      return {
        ...base,
        unreadCount: 0,
        lastMessage: latest(summary.lastMessage, { preview: preview(content), at: queuedAt, from: 'agent' }),
      };
    }
    case 'CycleStarted':
      return { ...base, cycle: event.data.cycle };
    case 'LabelAdded':
      return { ...base, labels: [...summary.labels, event.data.label] };
    case 'LabelRemoved':
      return { ...base, labels: summary.labels.filter((label) => label !== event.data.label) };
    case 'ConversationAssigned':
      return { ...base, assigneeId: event.data.agentId };
    case 'ConversationUnassigned':
      return { ...base, assigneeId: null };
    case 'StatusChanged': {
      const { status } = event.data;
      return { ...base, status: status.kind, snoozedUntil: status.kind === 'snoozed' ? status.until : null };
    }
    case 'PriorityChanged':
      return { ...base, priority: event.data.priority };
    case 'CycleEnded':
    case 'ReplySending':
    case 'ReplySent':
    case 'ReplyFailed':
    case 'ReplyDelivered':
    case 'ReplyRead':
    case 'NoteAdded':
      return base;
    default:
      return assertNever(event);
  }
}

/** When an event happened; the domain names that field differently for messages. */
function occurredAt(event: ConversationEvent): EpochMs {
  switch (event.type) {
    case 'InboundMessageReceived':
      return event.data.sentAt;
    case 'ReplyQueued':
      return event.data.queuedAt;
    case 'ConversationStarted':
    case 'CycleStarted':
    case 'CycleEnded':
    case 'ReplySending':
    case 'ReplySent':
    case 'ReplyFailed':
    case 'ReplyDelivered':
    case 'ReplyRead':
    case 'NoteAdded':
    case 'LabelAdded':
    case 'LabelRemoved':
    case 'ConversationAssigned':
    case 'ConversationUnassigned':
    case 'StatusChanged':
    case 'PriorityChanged':
      return event.data.at;
    default:
      return assertNever(event);
  }
}

/** The later of two messages; on a tie the one folded in last, so a reply follows the message it answers. */
function latest(current: MessagePreview | null, next: MessagePreview): MessagePreview {
  return current && current.at > next.at ? current : next;
}

function preview(content: InboundContent | ReplyContent): string {
  switch (content.type) {
    case 'text':
      return oneLine(content.text);
    case 'media':
      return oneLine(
        content.caption ? `[${content.media.kind}] ${content.caption}` : `[${content.media.kind}]`,
      );
    case 'template':
      return oneLine(content.name);
    case 'location':
    case 'reaction':
    case 'unsupported':
      return oneLine(contentLine(content));
    default:
      return assertNever(content);
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= PREVIEW_LENGTH ? flat : `${flat.slice(0, PREVIEW_LENGTH - 1)}…`;
}
