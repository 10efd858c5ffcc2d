import {
  contentLine,
  policyFor,
  windowDeadline,
  type ConversationEvent,
  type InboundContent,
  type ReplyContent,
} from '@parley/domain';
import { withKeys, type ConversationRow, type EventRow } from '../db/schema';

/** Characters of a message kept for the list, as the server's inbox-list projection keeps them. */
export const PREVIEW_LENGTH = 140;

/** One line for the list: the text, `[image] caption` for media, the template's name for a template. */
export function preview(content: InboundContent | ReplyContent): string {
  const line = (text: string) => text.replace(/\s+/g, ' ').trim();
  let text: string;
  switch (content.type) {
    case 'text':
      text = line(content.text);
      break;
    case 'media':
      text = `[${content.media.kind}]${content.caption ? ` ${line(content.caption)}` : ''}`;
      break;
    case 'template':
      text = `[template] ${content.name}`;
      break;
    case 'location':
    case 'reaction':
    case 'unsupported':
      text = line(contentLine(content));
      break;
    default:
      return content satisfies never;
  }
  return [...text].slice(0, PREVIEW_LENGTH).join('');
}

function occurredAt(event: ConversationEvent): number {
  switch (event.type) {
    case 'InboundMessageReceived':
      return event.data.sentAt;
    case 'ReplyQueued':
      return event.data.queuedAt;
    default:
      return event.data.at;
  }
}

function latest(
  current: ConversationRow['lastMessage'],
  next: NonNullable<ConversationRow['lastMessage']>,
): ConversationRow['lastMessage'] {
  return current && current.at > next.at ? current : next;
}

/**
 * Folds one conversation event into the list row, as the server's inbox-list projection does
 * (server/src/projections/conversation-events.ts): the same fields, so a list fetched from the
 * server and one folded here agree. Repeats (a version already folded) change nothing.
 */
export function applyToSummary(
  row: ConversationRow | undefined,
  stored: EventRow,
): ConversationRow | undefined {
  const event = { type: stored.type, data: stored.data } as unknown as ConversationEvent;
  if (event.type === 'ConversationStarted') {
    if (row && row.version >= stored.version) return row;
    const { conversationId, inboxId, platform, contact, at } = event.data;
    return withKeys({
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
      lastCustomerMessageAt: at,
      windowClosesAt: windowDeadline(policyFor(platform), at),
      lastActivityAt: at,
      version: stored.version,
      hydrated: row?.hydrated ?? true,
    });
  }
  if (!row || stored.version <= row.version) return row;
  const base: ConversationRow = {
    ...row,
    version: stored.version,
    lastActivityAt: Math.max(row.lastActivityAt, occurredAt(event)),
  };
  switch (event.type) {
    case 'InboundMessageReceived': {
      const { contact, content, sentAt } = event.data;
      const lastCustomerMessageAt = Math.max(row.lastCustomerMessageAt, sentAt);
      return withKeys({
        ...base,
        contact,
        unreadCount: row.unreadCount + 1,
        lastMessage: latest(row.lastMessage, { preview: preview(content), at: sentAt, from: 'customer' }),
        lastCustomerMessageAt,
        windowClosesAt: windowDeadline(policyFor(row.platform), lastCustomerMessageAt),
      });
    }
    case 'ReplyQueued':
      return {
        ...base,
        unreadCount: 0,
        lastMessage: latest(row.lastMessage, {
          preview: preview(event.data.content),
          at: event.data.queuedAt,
          from: 'agent',
        }),
      };
    case 'CycleStarted':
      return { ...base, cycle: event.data.cycle };
    case 'LabelAdded':
      return { ...base, labels: [...row.labels, event.data.label] };
    case 'LabelRemoved':
      return { ...base, labels: row.labels.filter((label) => label !== event.data.label) };
    case 'ConversationAssigned':
      return withKeys({ ...base, assigneeId: event.data.agentId });
    case 'ConversationUnassigned':
      return withKeys({ ...base, assigneeId: null });
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
      // An event type this build does not know yet: keep the version moving.
      return base;
  }
}
