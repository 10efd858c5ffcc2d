import {
  streamEntityId,
  type ConversationEvent,
  type ConversationState,
  type JsonObject,
  type QueueReply,
  type RecordedEvent,
  type TenantId,
} from '@parley/domain';
import type { AskResult } from '../../actors/runtime';
import type { SqlQueryable } from '../../db/driver';
import type { TransactionalAppend } from '../../store/types';
import type { ConversationPort } from '../ports';
import { insertOutboxRows, type NewOutboxRow } from './outbox-store';

/**
 * Writes an outbox row for every `ReplyQueued` of one or more appends, inside their transaction, in
 * one statement. Pass it as (or call it from) `withinTransaction` of any command that may queue a
 * reply.
 */
export async function writeOutboxRows(
  tx: SqlQueryable,
  appended: TransactionalAppend | readonly TransactionalAppend[],
): Promise<void> {
  const rows: NewOutboxRow[] = [];
  const appends: readonly TransactionalAppend[] = 'streamId' in appended ? [appended] : appended;
  for (const append of appends) {
    const conversationId = streamEntityId(append.streamId);
    for (const event of append.events as readonly RecordedEvent<ConversationEvent>[]) {
      if (event.type !== 'ReplyQueued') continue;
      const { clientMessageId, content, tag } = event.data as Extract<
        ConversationEvent,
        { type: 'ReplyQueued' }
      >['data'];
      rows.push({ tenantId: append.tenantId, conversationId, clientMessageId, reply: { content, tag } });
    }
  }
  await insertOutboxRows(tx, rows);
}

/**
 * Queues an agent's reply: the `ReplyQueued` event and its outbox row commit together or not at
 * all, so a reply the agent saw accepted is always sent, and one that failed is never sent.
 */
export function queueReply(
  grains: ConversationPort,
  tenantId: TenantId,
  conversationId: string,
  command: QueueReply,
  options: { idempotencyKey?: string; metadata?: JsonObject } = {},
): Promise<AskResult<ConversationState, ConversationEvent>> {
  return grains
    .conversation(tenantId, conversationId)
    .ask(command, { ...options, withinTransaction: writeOutboxRows });
}
