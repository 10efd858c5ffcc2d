import { ChannelError, ChannelErrorCode } from '../errors';
import { array, object, optionalText, text, type ParseContext, type ParsedDelivery } from './types';

/**
 * Reads what our widget posts: `{ type: "message", id, text, name? }` or
 * `{ type: "receipt", status, messageIds }`. The visitor is the token's, never the body's.
 */
export function parseWebchat(payload: unknown, context: ParseContext): ParsedDelivery {
  const body = object(payload, 'the body');
  const visitor = context.subject;
  if (!visitor)
    throw new ChannelError(ChannelErrorCode.PAYLOAD_INVALID, 'no visitor for a web chat delivery', true);
  if (body.type === 'message') {
    const name = optionalText(body.name).slice(0, 80);
    const message = optionalText(body.text);
    return {
      items: [
        {
          kind: 'message',
          platform: 'webchat',
          channelExternalId: null,
          contact: { id: visitor, name: name || `Visitor ${visitor.slice(0, 4)}`, handle: '' },
          externalMessageId: `${visitor}:${text(body.id, 'id')}`,
          // The visitor's clock is not trusted: web chat has no window, and order is ours.
          sentAt: context.receivedAt,
          content: message ? { type: 'text', text: message } : { type: 'text', text: ' ' },
          sourceType: 'text',
          unsupported: false,
        },
      ],
      ignored: 0,
    };
  }
  if (body.type === 'receipt' && (body.status === 'delivered' || body.status === 'read')) {
    return {
      items: [
        {
          kind: 'receipt',
          platform: 'webchat',
          channelExternalId: null,
          contactId: visitor,
          status: body.status,
          platformMessageIds: array(body.messageIds, 'messageIds').map((id) => text(id, 'messageIds[]')),
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
