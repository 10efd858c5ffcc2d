import { assertNever } from '../shared/command';
import type { EpochMs } from '../shared/ids';
import { policyFor } from '../platforms/policies';
import { windowDeadline, type InboundContent, type Platform, type ReplyContent } from '../platforms/policy';
import { contentLine } from './content';
import type { Contact, ConversationEvent, ConversationStatus, Priority } from './types';

/** Characters (code points) of a message kept for the inbox list, the ellipsis included. */
export const PREVIEW_LENGTH = 140;

/** The latest message of a conversation, as the inbox list shows it. */
export interface MessagePreview {
  /** One line of text; `[image]` (plus its caption) for media; the template's name for a template. */
  readonly preview: string;
  readonly at: EpochMs;
  readonly from: 'customer' | 'agent';
  /** The agent who queued it, for an agent's reply (CV19). */
  readonly agentId?: string;
}

/**
 * The customer messages one agent has not read (CV18): those since an agent last answered whose
 * platform time is after the agent's read mark. A summary folded by an older build (no times) falls
 * back to `unreadCount`.
 */
export function unreadFor(summary: ConversationSummary, agentId: string): number {
  const times = summary.unreadAt;
  if (!times) return summary.unreadCount;
  const mark = summary.readMarks?.[agentId];
  return mark === undefined ? times.length : times.filter((at) => at > mark).length;
}

/** Conversations with anything unread for the agent (CV18), for the total in the tab title. */
export function unreadConversations(summaries: readonly ConversationSummary[], agentId: string): number {
  return summaries.filter((summary) => unreadFor(summary, agentId) > 0).length;
}

/**
 * Who wrote the list's latest message, as the agent reading the list sees it (CV19): `You` for the
 * agent's own reply, the other agent's name (their id when no name is known), null for the customer.
 */
export function previewAuthor(
  message: MessagePreview,
  viewerId: string,
  names: Readonly<Record<string, string>> = {},
): string | null {
  if (message.from !== 'agent') return null;
  if (message.agentId === viewerId) return 'You';
  if (message.agentId === undefined) return 'Agent';
  return names[message.agentId] ?? message.agentId;
}

/**
 * One conversation as the inbox list shows it. The server's projections and the PWA fold the same
 * events with the same function (`applyToSummary`), so a list fetched from the server and one
 * folded on the device agree field by field.
 */
export interface ConversationSummary {
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
   * Customer messages since an agent last answered, for an agent who has read none of them: a
   * queued reply resets it (a reply counts once queued, as in rule CV12). What one agent has not
   * read is `unreadFor(summary, agentId)` (CV18); the server's list returns that in this field.
   */
  readonly unreadCount: number;
  /** The platform times of the customer messages counted in `unreadCount` (CV18); absent in a summary folded by an older build. */
  readonly unreadAt?: readonly EpochMs[];
  /** Each agent's read mark (`ConversationRead`'s `upTo`), by agent id (CV15, CV18). */
  readonly readMarks?: Readonly<Record<string, EpochMs>>;
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

/**
 * Folds one event of a conversation stream (at `version`) into its summary. A stream not begun by
 * `ConversationStarted` has none (undefined); an event at or below the summary's version is a
 * repeat and changes nothing. An event type this build does not know keeps the version moving, so
 * an older client folding a newer server's events neither stalls nor crashes.
 */
export function applyToSummary(
  summary: ConversationSummary | undefined,
  event: ConversationEvent,
  version: number,
): ConversationSummary | undefined {
  if (event.type === 'ConversationStarted') {
    if (summary && summary.version >= version) return summary;
    const { conversationId, inboxId, platform, contact, at } = event.data;
    return {
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
      unreadAt: [],
      readMarks: {},
      lastMessage: null,
      // As in the decider: the first message's time opens the window until that message is folded in.
      lastCustomerMessageAt: at,
      windowClosesAt: windowDeadline(policyFor(platform), at),
      lastActivityAt: at,
      version,
    };
  }
  if (!summary || version <= summary.version) return summary;
  const base: ConversationSummary = {
    ...summary,
    version,
    lastActivityAt: Math.max(summary.lastActivityAt, occurredAt(event)),
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
        unreadAt: [...(summary.unreadAt ?? []), sentAt],
        lastMessage: latest(summary.lastMessage, {
          preview: messagePreview(content),
          at: sentAt,
          from: 'customer',
        }),
        lastCustomerMessageAt,
        windowClosesAt: windowDeadline(policyFor(summary.platform), lastCustomerMessageAt),
      };
    }
    case 'ReplyQueued': {
      const { content, queuedAt, agentId } = event.data;
      return {
        ...base,
        unreadCount: 0,
        unreadAt: [],
        lastMessage: latest(summary.lastMessage, {
          preview: messagePreview(content),
          at: queuedAt,
          from: 'agent',
          agentId,
        }),
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
    case 'ConversationRead': {
      // One agent's read mark: not activity on the conversation, so the list order stays. It
      // never moves back (CV15).
      const { agentId, upTo } = event.data;
      const marks = summary.readMarks ?? {};
      const current = marks[agentId];
      if (current !== undefined && current >= upTo) return { ...summary, version };
      return { ...summary, version, readMarks: { ...marks, [agentId]: upTo } };
    }
    default:
      event satisfies never;
      return base;
  }
}

/** One line for the list: the text, `[image] caption` for media, the template's name for a template. */
export function messagePreview(content: InboundContent | ReplyContent): string {
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

/** Whitespace runs as one space; longer than `PREVIEW_LENGTH` code points: cut, with an ellipsis. */
function oneLine(text: string): string {
  const flat = [...text.replace(/\s+/g, ' ').trim()];
  return flat.length <= PREVIEW_LENGTH ? flat.join('') : `${flat.slice(0, PREVIEW_LENGTH - 1).join('')}…`;
}

/** When an event happened; the domain names that field differently for messages. */
function occurredAt(event: ConversationEvent): EpochMs {
  switch (event.type) {
    case 'InboundMessageReceived':
      return event.data.sentAt;
    case 'ReplyQueued':
      return event.data.queuedAt;
    default:
      // Every other event says when in `at` (a compile error otherwise); one this build does not
      // know may not, and must not make the list's sort key NaN.
      return Number.isFinite(event.data.at) ? event.data.at : 0;
  }
}

/** The later of two messages; on a tie the one folded in last, so a reply follows the message it answers. */
function latest(current: MessagePreview | null, next: MessagePreview): MessagePreview {
  return current && current.at > next.at ? current : next;
}
