import { randomBytes } from 'node:crypto';
import type { AcceptedMessage, SimulatorKind, StatusTarget } from './platform-simulator';
import { metaReceipt, whatsappStatus } from './payloads';

// Each platform's request and answer shapes, as the simulators speak them.

/** Which channel and API method a send request names, or undefined for an unknown path. */
export function matchSend(
  kind: SimulatorKind,
  path: string,
): { channel: string; method: string } | undefined {
  if (kind === 'telegram') {
    const m = /^\/bot([^/]+)\/(send[A-Za-z]+)$/.exec(path);
    return m ? { channel: m[1]!.split(':')[0]!, method: m[2]! } : undefined;
  }
  const m = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(path);
  return m ? { channel: decodeURIComponent(m[1]!), method: 'messages' } : undefined;
}

/** The recipient of a send, in the platform's field. */
export function recipientOf(kind: SimulatorKind, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const value =
    kind === 'whatsapp'
      ? b.to
      : kind === 'meta'
        ? (b.recipient as Record<string, unknown> | undefined)?.id
        : b.chat_id;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** A message id in the platform's format. */
export function newMessageId(kind: SimulatorKind, n: number): string {
  const random = randomBytes(12).toString('base64url');
  switch (kind) {
    case 'whatsapp':
      return `wamid.SIM${random}`;
    case 'meta':
      return `m_SIM${random}`;
    case 'telegram':
      return String(1000 + n);
    default:
      return kind satisfies never;
  }
}

/** The platform's answer to an accepted send. */
export function sendAnswer(kind: SimulatorKind, message: AcceptedMessage, method: string): unknown {
  switch (kind) {
    case 'whatsapp':
      return {
        messaging_product: 'whatsapp',
        contacts: [{ input: message.to, wa_id: message.to }],
        messages: [{ id: message.id }],
      };
    case 'meta':
      return { recipient_id: message.to, message_id: message.id };
    case 'telegram':
      return {
        ok: true,
        result: {
          message_id: Number(message.id),
          chat: { id: Number(message.to), type: 'private' },
          date: Math.floor(message.at / 1000),
          via: method,
        },
      };
    default:
      return kind satisfies never;
  }
}

/** The platform's error body for a status (Graph API error or Telegram's `ok: false`). */
export function errorBody(
  kind: SimulatorKind,
  status: number,
  message: string,
  retryAfter?: number,
): unknown {
  if (kind === 'telegram') {
    return {
      ok: false,
      error_code: status,
      description: message,
      ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
    };
  }
  const code =
    status === 429 ? (kind === 'whatsapp' ? 130429 : 613) : status === 401 ? 190 : status >= 500 ? 2 : 100;
  return { error: { message, type: 'OAuthException', code, fbtrace_id: 'SIMULATED' } };
}

/** The signed status webhook a platform posts for one of its messages; undefined when it posts none. */
export function statusPayload(
  kind: SimulatorKind,
  target: StatusTarget,
  message: AcceptedMessage,
  status: 'sent' | 'delivered' | 'read',
  at: number,
): unknown {
  if (kind === 'whatsapp') {
    return whatsappStatus(message.channelExternalId, { id: message.id, status, recipient: message.to, at });
  }
  if (status === 'sent') return undefined; // Meta sends no "sent" webhook
  return metaReceipt(target.object ?? 'page', message.channelExternalId, message.to, {
    status,
    mids: [message.id],
    at,
  });
}
