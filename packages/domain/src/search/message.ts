import type { ConversationEvent } from '../conversation/types';
import type { InboundContent, ReplyContent } from '../platforms/policy';

/** The kind of a searchable message: the customer's, our reply, or a private note. */
export type MessageKind = 'customer' | 'reply' | 'note';

/**
 * The words an event adds to search (SR4): a customer message's text, caption or place, a reply's
 * text, caption or template parameters, a note's text; null for every other event (and for a
 * reaction or an unsupported message, which carry no words of their own).
 */
export function searchableText(event: ConversationEvent): { kind: MessageKind; text: string } | null {
  switch (event.type) {
    case 'InboundMessageReceived':
      return wordsOf('customer', event.data.content);
    case 'ReplyQueued':
      return wordsOf('reply', event.data.content);
    case 'NoteAdded':
      return event.data.text.trim() === '' ? null : { kind: 'note', text: event.data.text };
    default:
      return null;
  }
}

function wordsOf(kind: MessageKind, content: InboundContent | ReplyContent) {
  let text: string | null;
  switch (content.type) {
    case 'text':
      text = content.text;
      break;
    case 'media':
      text = content.caption;
      break;
    case 'location':
      text = [content.name, content.address].filter(Boolean).join(', ');
      break;
    case 'template':
      text = content.params.join(' ');
      break;
    case 'reaction':
    case 'unsupported':
      text = null;
      break;
    default:
      return content satisfies never;
  }
  return text === null || text.trim() === '' ? null : { kind, text };
}
