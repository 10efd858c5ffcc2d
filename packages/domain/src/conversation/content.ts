import type { InboundContent, ReplyContent } from '../platforms/policy';
import { assertNever } from '../shared/command';
import { refuse } from '../shared/errors';
import { ConversationErrorCode } from './types';

/** The words a message type Parley cannot show is shown with (rule CV13). */
export const UNSUPPORTED_MESSAGE = 'Unsupported message';

/**
 * Rule CV13: a location lies on the globe, a reaction names the message it is about, and an
 * unsupported message keeps the platform's type. Anything else is refused with `CONTENT_INVALID`.
 */
export function checkInboundContent(content: InboundContent): void {
  switch (content.type) {
    case 'text':
    case 'media':
      return;
    case 'location': {
      const { latitude, longitude } = content;
      if (!inRange(latitude, 90) || !inRange(longitude, 180)) {
        invalid(
          `a location needs a latitude within ±90 and a longitude within ±180 (${latitude}, ${longitude})`,
        );
      }
      return;
    }
    case 'reaction':
      if (content.messageId.trim() === '') invalid('a reaction names the message it reacts to');
      if (content.emoji === '') invalid('a reaction is an emoji, or null when it was removed');
      return;
    case 'unsupported':
      if (content.sourceType.trim() === '') invalid("an unsupported message keeps the platform's type");
      if (content.raw !== undefined && typeof content.raw !== 'string') invalid('a raw value is JSON text');
      return;
    default:
      return assertNever(content);
  }
}

/**
 * Any message's content as one line of text for people: `[image] caption`, `📍 place (lat, lon)`,
 * `Reacted 👍`, `Unsupported message (sticker)`, `Template name (params)`.
 */
export function contentLine(content: InboundContent | ReplyContent): string {
  switch (content.type) {
    case 'text':
      return content.text;
    case 'media':
      return `[${content.media.kind}]${content.caption ? ` ${content.caption}` : ''}`;
    case 'location': {
      const where = [content.name, content.address].filter(Boolean).join(', ');
      return `📍 ${where ? `${where} ` : ''}(${content.latitude}, ${content.longitude})`;
    }
    case 'reaction':
      return content.emoji ? `Reacted ${content.emoji}` : 'Removed a reaction';
    case 'unsupported':
      return `${UNSUPPORTED_MESSAGE} (${content.sourceType})${content.raw === undefined ? '' : `: ${content.raw}`}`;
    case 'template':
      return `Template ${content.name}${content.params.length ? ` (${content.params.join(', ')})` : ''}`;
    default:
      return assertNever(content);
  }
}

function inRange(value: number, limit: number): boolean {
  return Number.isFinite(value) && value >= -limit && value <= limit;
}

function invalid(message: string): never {
  refuse(ConversationErrorCode.CONTENT_INVALID, message, 'CV13');
}
