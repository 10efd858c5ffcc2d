import { randomBytes } from 'node:crypto';
import type { SqlQueryable } from '../../../db/driver';
import type { OutboundMessage, PlatformSender, SendOutcome } from './types';

/** Web chat's "platform API" is our own table, which the widget reads; a resend finds its first row. */
export function webchatSender(sql: SqlQueryable): PlatformSender {
  return {
    async send(message: OutboundMessage): Promise<SendOutcome> {
      const { channel } = message;
      const rows = await sql.query<{ message_id: string }>(
        `INSERT INTO webchat_messages (tenant_id, channel_id, visitor_id, message_id, send_key, content)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (tenant_id, send_key) DO UPDATE SET send_key = EXCLUDED.send_key
         RETURNING message_id`,
        [
          channel.tenantId,
          channel.channelId,
          message.recipient,
          `wcm_${randomBytes(9).toString('base64url')}`,
          message.idempotencyKey,
          JSON.stringify(message.content),
        ],
      );
      return { kind: 'sent', platformMessageId: rows[0]!.message_id };
    },
  };
}
