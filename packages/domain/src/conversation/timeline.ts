import type { InboundContent, MessageTag, ReplyContent } from '../platforms/policy';
import type { EpochMs } from '../shared/ids';
import type { ConversationEvent } from './types';

/**
 * One message or note of a conversation as its timeline shows it. `at` is when it happened (the
 * platform's timestamp for a customer message, the queue time of our reply, a note's time) and
 * `position` is its event's index in the log given, which is the order it arrived in.
 */
export type TimelineEntry =
  | {
      readonly kind: 'customer';
      readonly externalMessageId: string;
      readonly content: InboundContent;
      readonly at: EpochMs;
      readonly position: number;
    }
  | {
      readonly kind: 'reply';
      readonly clientMessageId: string;
      readonly agentId: string;
      readonly content: ReplyContent;
      readonly tag: MessageTag | null;
      readonly at: EpochMs;
      readonly position: number;
    }
  | {
      readonly kind: 'note';
      readonly noteId: string;
      readonly agentId: string;
      readonly text: string;
      readonly mentions: readonly string[];
      readonly at: EpochMs;
      readonly position: number;
    };

/** Timeline order (CV14): earlier time first; equal times in the order they arrived. */
export function compareTimeline(
  a: { readonly at: EpochMs; readonly position: number },
  b: { readonly at: EpochMs; readonly position: number },
): number {
  return a.at - b.at || a.position - b.position;
}

/**
 * A conversation's messages and notes in timeline order (rule CV14), from its events in log order.
 * Platforms deliver webhooks out of order, so the log's order is when Parley heard of a message,
 * not when the customer wrote it; the timeline sorts by the latter. A reply queued twice shows once.
 */
export function conversationTimeline(events: readonly ConversationEvent[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const replies = new Set<string>();
  // An entry without a usable time (a corrupt or foreign event) stays where it arrived.
  let previousAt = 0;
  const timeOf = (at: EpochMs): EpochMs => (Number.isFinite(at) ? at : previousAt);
  events.forEach((event, position) => {
    let entry: TimelineEntry;
    switch (event.type) {
      case 'InboundMessageReceived': {
        const { externalMessageId, content, sentAt } = event.data;
        entry = { kind: 'customer', externalMessageId, content, at: timeOf(sentAt), position };
        break;
      }
      case 'ReplyQueued': {
        const { clientMessageId, agentId, content, tag, queuedAt } = event.data;
        if (replies.has(clientMessageId)) return;
        replies.add(clientMessageId);
        entry = { kind: 'reply', clientMessageId, agentId, content, tag, at: timeOf(queuedAt), position };
        break;
      }
      case 'NoteAdded': {
        const { noteId, agentId, text, mentions, at } = event.data;
        entry = { kind: 'note', noteId, agentId, text, mentions, at: timeOf(at), position };
        break;
      }
      default:
        return;
    }
    previousAt = entry.at;
    entries.push(entry);
  });
  return entries.sort(compareTimeline);
}
