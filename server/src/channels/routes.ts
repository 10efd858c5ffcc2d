import type { TenantId } from '@parley/domain';
import type { SqlQueryable } from '../db/driver';

/**
 * Routes a conversation's replies to a channel and the customer's id on it; the first route wins.
 * The inbound processor writes it with the conversation's first events, so a reply never lacks
 * one; the demo seed writes it for the conversations it makes without a webhook.
 */
export async function routeReplies(
  tx: SqlQueryable,
  tenantId: TenantId,
  conversationId: string,
  channelId: string,
  contactId: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO channel_contacts (tenant_id, conversation_id, channel_id, contact_id)
     VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, conversation_id) DO NOTHING`,
    [tenantId, conversationId, channelId, contactId],
  );
}
