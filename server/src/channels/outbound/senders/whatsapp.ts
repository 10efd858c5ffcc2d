import type { ReplyContent } from '@parley/domain';
import { unreachable } from '../../types';
import { field, textField, genericFailure, isOutcome, postJson } from './http';
import type { OutboundMessage, PlatformSender, SendOutcome } from './types';

/** Cloud API error codes that mean "slow down" rather than "no". */
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131048, 131056]);
/** The customer service window has closed (re-engagement message). */
const WINDOW_CLOSED_CODE = 131047;

/** Sends with the WhatsApp Cloud API: `POST {base}/{phone_number_id}/messages`. */
export function whatsappSender(timeoutMs: number): PlatformSender {
  return {
    async send(message: OutboundMessage, baseUrl: string): Promise<SendOutcome> {
      const answer = await postJson(
        `${baseUrl}/${encodeURIComponent(message.channel.externalId)}/messages`,
        {
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          to: message.recipient,
          ...body(message.content),
        },
        { authorization: `Bearer ${message.channel.accessToken}`, 'idempotency-key': message.idempotencyKey },
        timeoutMs,
      );
      if (isOutcome(answer)) return answer;
      const id = field(answer.json, 'messages', 0, 'id');
      if (answer.status >= 200 && answer.status < 300) {
        return typeof id === 'string'
          ? { kind: 'sent', platformMessageId: id }
          : { kind: 'transient', code: 'BAD_RESPONSE', detail: 'no message id in the answer' };
      }
      const code = Number(field(answer.json, 'error', 'code'));
      const detail = textField(answer.json, 'error', 'message') ?? `HTTP ${answer.status}`;
      if (code === WINDOW_CLOSED_CODE) return { kind: 'rejected', code: 'WINDOW_CLOSED', detail };
      if (RATE_LIMIT_CODES.has(code)) {
        return genericFailure({ ...answer, status: 429 }, `WHATSAPP_${code}`, detail);
      }
      return genericFailure(
        answer,
        Number.isFinite(code) ? `WHATSAPP_${code}` : `HTTP_${answer.status}`,
        detail,
      );
    },
  };
}

function body(content: ReplyContent): Record<string, unknown> {
  switch (content.type) {
    case 'text':
      return { type: 'text', text: { body: content.text, preview_url: false } };
    case 'media': {
      const { kind, url } = content.media;
      const captioned = kind === 'image' || kind === 'video' || kind === 'document';
      return {
        type: kind,
        [kind]: { link: url, ...(captioned && content.caption ? { caption: content.caption } : {}) },
      };
    }
    case 'template':
      return {
        type: 'template',
        template: {
          name: content.name,
          language: { code: content.language },
          components:
            content.params.length === 0
              ? []
              : [{ type: 'body', parameters: content.params.map((text) => ({ type: 'text', text })) }],
        },
      };
    default:
      return unreachable(content);
  }
}
