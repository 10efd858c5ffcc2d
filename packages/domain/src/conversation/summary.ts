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
   * Customer messages since an agent last answered: a queued reply resets it (a reply counts once
   * queued, as in rule CV12). The domain records no "agent read the conversation" event, so opening
   * a conversation does not reset it.
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
      const { content, queuedAt } = event.data;
      return {
        ...base,
        unreadCount: 0,
        lastMessage: latest(summary.lastMessage, {
          preview: messagePreview(content),
          at: queuedAt,
          from: 'agent',
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
    case 'ConversationRead':
      // One agent's read mark: not activity on the conversation, so the list order stays.
      return { ...summary, version };
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
