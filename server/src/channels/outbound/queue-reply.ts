import { streamEntityId, type ConversationEvent, type RecordedEvent } from '@parley/domain';
import type { SqlQueryable } from '../../db/driver';
import type { TransactionalAppend } from '../../store/types';
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
