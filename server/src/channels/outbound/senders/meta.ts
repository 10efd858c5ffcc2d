import type { ReplyContent } from '@parley/domain';
import { unreachable } from '../../types';
import { field, textField, genericFailure, isOutcome, postJson } from './http';
import type { OutboundMessage, PlatformSender, SendOutcome } from './types';

const ATTACHMENT_TYPE = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'file',
  sticker: 'image',
} as const;
/** Graph API codes that mean "slow down". */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
/** "This message is sent outside of allowed window." */
const OUTSIDE_WINDOW_SUBCODE = 2018278;

/** Sends with the Messenger / Instagram Send API: `POST {base}/{page or Instagram id}/messages`. */
export function metaSender(timeoutMs: number): PlatformSender {
  return {
    async send(message: OutboundMessage, baseUrl: string): Promise<SendOutcome> {
      const answer = await postJson(
        `${baseUrl}/${encodeURIComponent(message.channel.externalId)}/messages`,
        {
          recipient: { id: message.recipient },
          messaging_type: message.tag ? 'MESSAGE_TAG' : 'RESPONSE',
          ...(message.tag ? { tag: message.tag } : {}),
          message: body(message.content),
        },
        { authorization: `Bearer ${message.channel.accessToken}`, 'idempotency-key': message.idempotencyKey },
        timeoutMs,
      );
      if (isOutcome(answer)) return answer;
      const id = field(answer.json, 'message_id');
      if (answer.status >= 200 && answer.status < 300) {
        return typeof id === 'string'
          ? { kind: 'sent', platformMessageId: id }
          : { kind: 'transient', code: 'BAD_RESPONSE', detail: 'no message_id in the answer' };
      }
      const code = Number(field(answer.json, 'error', 'code'));
      const subcode = Number(field(answer.json, 'error', 'error_subcode'));
      const detail = textField(answer.json, 'error', 'message') ?? `HTTP ${answer.status}`;
      if (subcode === OUTSIDE_WINDOW_SUBCODE) return { kind: 'rejected', code: 'WINDOW_CLOSED', detail };
      if (RATE_LIMIT_CODES.has(code))
        return genericFailure({ ...answer, status: 429 }, `META_${code}`, detail);
      return genericFailure(answer, Number.isFinite(code) ? `META_${code}` : `HTTP_${answer.status}`, detail);
    },
  };
}

function body(content: ReplyContent): Record<string, unknown> {
  switch (content.type) {
    case 'text':
      return { text: content.text };
    case 'media':
      // The Send API carries no caption with an attachment.
      return {
        attachment: {
          type: ATTACHMENT_TYPE[content.media.kind],
          payload: { url: content.media.url, is_reusable: true },
        },
      };
    case 'template':
      // The domain refuses templates here (IG4, MS4); a row that holds one is rejected by the caller.
      return { text: `[template ${content.name}]` };
    default:
      return unreachable(content);
  }
}
