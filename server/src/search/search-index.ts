import {
  searchableText,
  searchTerms,
  streamEntityId,
  type Checkpoint,
  type ConversationEvent,
  type RecordedEvent,
} from '@parley/domain';
import type { Database } from '../db/database';
import type { SqlQueryable } from '../db/driver';
import type { Logger } from '../logger';
import { ERASED } from '../crypto/event-codec';
import { isConversationEvent } from '../projections/conversation-events';
import { startFollower } from '../projections/follower';
import { START } from '../store/checkpoint';
import type { EventStore } from '../store/types';

/** The checkpoint's name in `subscription_checkpoints`. */
export const SEARCH_CHECKPOINT = 'search-index';

/** The tables the index owns. */
export const SEARCH_TABLES = ['search_conversations', 'search_messages'] as const;

export interface SearchIndexOptions {
  readonly store: EventStore;
  readonly db: Database;
  readonly logger?: Logger;
  readonly name?: string;
  /** Events per transaction at most. Defaults to 500. */
  readonly batchSize?: number;
}

/** The running index. */
export interface SearchIndex {
  /** Resolves once every event committed before the call is indexed. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** One row the index writes. */
type Row =
  | { readonly table: 'conversation'; readonly event: RecordedEvent; readonly inboxId: string }
  | {
      readonly table: 'message';
      readonly event: RecordedEvent;
      readonly kind: string;
      readonly words: string;
    };

/**
 * The search index (#15, decision 0025): follows the global log from its stored checkpoint and
 * writes each conversation's inbox and each message's words (the domain's `searchableText` and
 * `searchTerms`), a batch and the checkpoint in one transaction. Rows are keyed by stream version,
 * so a replay writes nothing twice. Crypto-shredding (0022): an event read before its contact's
 * key was destroyed is not written after it (the write takes the key rows first and skips events
 * recorded before a destruction), and erasure deletes the rows already written.
 */
export async function startSearchIndex(options: SearchIndexOptions): Promise<SearchIndex> {
  const { store, db, logger } = options;
  const name = options.name ?? SEARCH_CHECKPOINT;
  return startFollower({
    store,
    db,
    ...(logger && { logger }),
    name,
    label: 'search index',
    batchSize: options.batchSize ?? 500,
    apply: (events, checkpoint) => writeBatch(db, events, { name, checkpoint }),
  });
}

/** The rows a conversation event adds to the index, if any. */
export function rowsOf(event: RecordedEvent): Row[] {
  if (!isConversationEvent(event)) return [];
  const domainEvent = event as ConversationEvent;
  if (domainEvent.type === 'ConversationStarted') {
    return [{ table: 'conversation', event, inboxId: domainEvent.data.inboxId }];
  }
  const found = searchableText(domainEvent);
  // An erased contact's content reads as "[erased]": nothing of it is indexed.
  if (found === null || found.text === ERASED) return [];
  const words = searchTerms(found.text).join(' ');
  return words === '' ? [] : [{ table: 'message', event, kind: found.kind, words }];
}

/** Writes a batch's rows and the checkpoint in one transaction (see `startSearchIndex`). */
async function writeBatch(
  db: Database,
  events: readonly RecordedEvent[],
  checkpoint: { name: string; checkpoint: Checkpoint } | null,
): Promise<void> {
  const rows = events.flatMap(rowsOf);
  if (rows.length === 0 && checkpoint === null) return;
  await db.sql.transaction(async (tx) => {
    const erasedBefore = await lockKeys(tx, rows);
    // One statement per table for the whole batch (PERFORMANCE.md: per-row inserts crowded PGlite).
    const conversations = { tenant: [] as string[], conversation: [] as string[], inbox: [] as string[] };
    const messages = {
      tenant: [] as string[],
      conversation: [] as string[],
      version: [] as number[],
      kind: [] as string[],
      at: [] as number[],
      words: [] as string[],
    };
    for (const row of rows) {
      const { tenantId, streamId, version, recordedAt } = row.event;
      const conversationId = streamEntityId(streamId);
      if (row.table === 'conversation') {
        conversations.tenant.push(tenantId);
        conversations.conversation.push(conversationId);
        conversations.inbox.push(row.inboxId);
        continue;
      }
      const erased = erasedBefore.get(`${tenantId}/${streamId}`);
      if (erased !== undefined && recordedAt <= erased) continue;
      messages.tenant.push(tenantId);
      messages.conversation.push(conversationId);
      messages.version.push(version);
      messages.kind.push(row.kind);
      messages.at.push(recordedAt);
      messages.words.push(row.words);
    }
    if (conversations.tenant.length > 0) {
      await tx.query(
        `INSERT INTO search_conversations (tenant_id, conversation_id, inbox_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT DO NOTHING`,
        [conversations.tenant, conversations.conversation, conversations.inbox],
      );
    }
    if (messages.tenant.length > 0) {
      await tx.query(
        `INSERT INTO search_messages (tenant_id, conversation_id, version, kind, at, words)
         SELECT t, c, v, k, to_timestamp(a / 1000), to_tsvector('simple', w)
           FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::double precision[], $6::text[])
             AS m(t, c, v, k, a, w)
         ON CONFLICT DO NOTHING`,
        [
          messages.tenant,
          messages.conversation,
          messages.version,
          messages.kind,
          messages.at,
          messages.words,
        ],
      );
    }
    if (checkpoint !== null) {
      await tx.query(
        `INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
        [checkpoint.name, checkpoint.checkpoint],
      );
    }
  });
}

/**
 * Takes the contact key rows of the batch's streams (FOR SHARE: an erasure destroying one waits
 * for this transaction, then deletes what it wrote) and says when each stream's last destroyed
 * key was destroyed: an event recorded before that was sealed under a key that is gone.
 */
async function lockKeys(tx: SqlQueryable, rows: readonly Row[]): Promise<Map<string, number>> {
  const byTenant = new Map<string, Set<string>>();
  for (const { event } of rows) {
    const streams = byTenant.get(event.tenantId) ?? new Set<string>();
    streams.add(event.streamId);
    byTenant.set(event.tenantId, streams);
  }
  const erased = new Map<string, number>();
  for (const [tenantId, streams] of byTenant) {
    const keys = await tx.query<{ stream_id: string; destroyed_at: Date | string | null; period: unknown }>(
      `SELECT stream_id, destroyed_at, period FROM contact_keys
        WHERE tenant_id = $1 AND stream_id = ANY($2::text[]) FOR SHARE`,
      [tenantId, [...streams]],
    );
    for (const key of keys) {
      // A retention period's key (0031) erases only its own period's content, which its sweep unindexes.
      if (key.destroyed_at === null || key.period !== null) continue;
      const at = new Date(key.destroyed_at).getTime();
      const stream = `${tenantId}/${key.stream_id}`;
      erased.set(stream, Math.max(erased.get(stream) ?? 0, at));
    }
  }
  return erased;
}

/** Deletes one tenant's rows (or all) and indexes the log again from its start, archived days included. */
export async function rebuildSearchIndex(options: {
  readonly store: EventStore;
  readonly db: Database;
  readonly tenantId?: RecordedEvent['tenantId'];
  readonly batchSize?: number;
}): Promise<{ readonly events: number }> {
  const { store, db, tenantId } = options;
  const batchSize = options.batchSize ?? 1000;
  await db.sql.transaction(async (tx) => {
    for (const table of SEARCH_TABLES) {
      if (tenantId === undefined) await tx.query(`DELETE FROM ${table}`);
      else await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
    }
  });
  let position = START;
  let events = 0;
  for (;;) {
    const page =
      tenantId === undefined
        ? await store.readAllTenants(position, batchSize)
        : await store.readAll(tenantId, position, batchSize);
    if (page.events.length > 0) await writeBatch(db, page.events, null);
    events += page.events.length;
    position = page.next;
    if (page.events.length < batchSize) return { events };
  }
}
