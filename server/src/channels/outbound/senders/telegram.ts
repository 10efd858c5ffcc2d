import type { ReplyContent } from '@parley/domain';
import { unreachable } from '../../types';
import { field, textField, isOutcome, postJson } from './http';
import type { OutboundMessage, PlatformSender, SendOutcome } from './types';

const METHOD = {
  image: 'sendPhoto',
  video: 'sendVideo',
  audio: 'sendAudio',
  document: 'sendDocument',
  sticker: 'sendSticker',
} as const;
const FIELD = {
  image: 'photo',
  video: 'video',
  audio: 'audio',
  document: 'document',
  sticker: 'sticker',
} as const;

/** Sends with the Telegram Bot API: `POST {base}/bot{token}/sendMessage` (or sendPhoto, ...). */
export function telegramSender(timeoutMs: number): PlatformSender {
  return {
    async send(message: OutboundMessage, baseUrl: string): Promise<SendOutcome> {
      const { method, params } = request(message.content);
      const answer = await postJson(
        `${baseUrl}/bot${message.channel.accessToken}/${method}`,
        { chat_id: message.recipient, ...params },
        { 'idempotency-key': message.idempotencyKey },
        timeoutMs,
      );
      if (isOutcome(answer)) return answer;
      const id = field(answer.json, 'result', 'message_id');
      if (field(answer.json, 'ok') === true && (typeof id === 'number' || typeof id === 'string')) {
        // Telegram numbers messages per chat, as the inbound ids do.
        return { kind: 'sent', platformMessageId: `${message.recipient}:${id}` };
      }
      const errorCode = Number(field(answer.json, 'error_code') ?? answer.status);
      const detail = textField(answer.json, 'description') ?? `HTTP ${answer.status}`;
      if (errorCode === 429) {
        const seconds = Number(field(answer.json, 'parameters', 'retry_after'));
        return {
          kind: 'rate-limited',
          retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined,
          detail,
        };
      }
      if (errorCode >= 500 || answer.status >= 500)
        return { kind: 'transient', code: `HTTP_${answer.status}`, detail };
      if (errorCode === 403) return { kind: 'rejected', code: 'TELEGRAM_BLOCKED', detail };
      return { kind: 'rejected', code: `TELEGRAM_${errorCode}`, detail };
    },
  };
}

function request(content: ReplyContent): { method: string; params: Record<string, unknown> } {
  switch (content.type) {
    case 'text':
      return { method: 'sendMessage', params: { text: content.text } };
    case 'media': {
      const { kind, url } = content.media;
      const caption = kind !== 'sticker' && content.caption ? { caption: content.caption } : {};
      return { method: METHOD[kind], params: { [FIELD[kind]]: url, ...caption } };
    }
    case 'template':
      return { method: 'sendMessage', params: { text: `[template ${content.name}]` } };
    default:
      return unreachable(content);
  }
}
