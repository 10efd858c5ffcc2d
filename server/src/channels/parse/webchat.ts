import { ChannelError, ChannelErrorCode } from '../errors';
import {
  array,
  object,
  optionalText,
  text,
  unreadableContent,
  type ParseContext,
  type ParsedDelivery,
} from './types';

/** The most message ids one web chat receipt may name (S13); the endpoint answers 400 beyond. */
export const MAX_RECEIPT_IDS = 100;

/** An address that looks like an e-mail; anything else is not kept. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Only a web page's address (http or https) is kept as the visitor's page. */
const PAGE = /^https?:\/\/[^\s]+$/i;

/**
 * Reads what our widget posts: `{ type: "message", id, text, name?, email?, page? }` or
 * `{ type: "receipt", status, messageIds }`. The visitor is the token's, never the body's.
 */
export function parseWebchat(payload: unknown, context: ParseContext): ParsedDelivery {
  const body = object(payload, 'the body');
  const visitor = context.subject;
  if (!visitor)
    throw new ChannelError(ChannelErrorCode.PAYLOAD_INVALID, 'no visitor for a web chat delivery', true);
  if (body.type === 'message') {
    const name = optionalText(body.name).slice(0, 80);
    const message = typeof body.text === 'string' ? body.text : '';
    // What the widget knows of the visitor: an e-mail the site or a pre-chat form gave, the page.
    const email = optionalText(body.email).trim().slice(0, 200);
    const page = optionalText(body.page).trim().slice(0, 500);
    return {
      items: [
        {
          kind: 'message',
          platform: 'webchat',
          channelExternalId: null,
          contact: {
            id: visitor,
            name: name || `Visitor ${visitor.slice(0, 4)}`,
            handle: EMAIL.test(email) ? email : 'Web visitor',
            ...(EMAIL.test(email) ? { email } : {}),
            ...(PAGE.test(page) ? { page } : {}),
          },
          externalMessageId: `${visitor}:${text(body.id, 'id')}`,
          // The visitor's clock is not trusted: web chat has no window, and order is ours.
          sentAt: context.receivedAt,
          // TX2: a text that is missing, empty or of another JSON type is kept raw, never as other text.
          content: message ? { type: 'text', text: message } : unreadableContent('text', body.text ?? null),
          sourceType: 'text',
          unsupported: !message,
        },
      ],
      ignored: 0,
    };
  }
  if (body.type === 'receipt' && (body.status === 'delivered' || body.status === 'read')) {
    const ids = array(body.messageIds, 'messageIds');
    if (ids.length > MAX_RECEIPT_IDS) {
      throw new ChannelError(
        ChannelErrorCode.PAYLOAD_INVALID,
        `a receipt names at most ${MAX_RECEIPT_IDS} messages, not ${ids.length}`,
        true,
      );
    }
    return {
      items: [
        {
          kind: 'receipt',
          platform: 'webchat',
          channelExternalId: null,
          contactId: visitor,
          status: body.status,
          platformMessageIds: ids.map((id) => text(id, 'messageIds[]')),
          watermark: null,
          at: context.receivedAt,
          error: null,
        },
      ],
      ignored: 0,
    };
  }
  throw new ChannelError(
    ChannelErrorCode.PAYLOAD_INVALID,
    `unknown web chat type ${JSON.stringify(body.type)}`,
    true,
  );
}
