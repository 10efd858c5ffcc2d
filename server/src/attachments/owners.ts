import { StreamCategory, streamFor, type RecordedEvent, type TenantId } from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { SqlDriver, SqlQueryable } from '../db/driver';
import type { TransactionalAppend } from '../store/types';

const ATTACHMENT_REF = /attachment:([0-9a-f]{64})/g;
const CONVERSATION_PREFIX = `${StreamCategory.conversation}-`;

/** The stored files a value names (`attachment:<sha256>` anywhere in it), once each, in order. */
export function filesNamedIn(value: unknown): string[] {
  const hashes = new Set<string>();
  for (const match of JSON.stringify(value).matchAll(ATTACHMENT_REF)) hashes.add(match[1]!);
  return [...hashes];
}

/** Some events of one stream, as an append hands them over or a read returns them. */
type EventsOf = Pick<TransactionalAppend, 'tenantId' | 'streamId'> & {
  readonly events: readonly Pick<RecordedEvent, 'data' | 'recordedAt'>[];
};

/**
 * Records, in the caller's transaction, which conversation each stored file its events name
 * belongs to (docs/decisions/0022): what an erasure reads to tell a file only the erased contact's
 * conversations name from one another conversation names too. Only files the tenant stored are
 * recorded (a platform's own media reference has no bytes here); `named_at` keeps the latest time.
 *
 * Given `gone`, the files must still be stored: their rows are locked (an erasure deleting one
 * waits, or has committed and the row is not found) and a missing one throws `gone(hashes)`,
 * aborting the append, so no new message names bytes an erasure deletes. Without it (reading old
 * events) a file no longer stored is passed over.
 */
export async function recordFileOwners(
  tx: SqlQueryable,
  appended: EventsOf | readonly EventsOf[],
  gone?: (hashes: readonly string[]) => Error,
): Promise<void> {
  type Naming = { sha256: string; conversation: string; at: number };
  const byTenant = new Map<string, Map<string, Naming>>();
  for (const append of 'streamId' in appended ? [appended] : appended) {
    if (!append.streamId.startsWith(CONVERSATION_PREFIX)) continue;
    const conversation = append.streamId.slice(CONVERSATION_PREFIX.length);
    for (const event of append.events) {
      for (const sha256 of filesNamedIn(event.data)) {
        const named = byTenant.get(append.tenantId) ?? new Map<string, Naming>();
        byTenant.set(append.tenantId, named);
        const key = `${sha256}/${conversation}`;
        // One row per (file, conversation) in a statement: ON CONFLICT may touch a row only once.
        if ((named.get(key)?.at ?? -Infinity) < event.recordedAt)
          named.set(key, { sha256, conversation, at: event.recordedAt });
      }
    }
  }
  for (const [tenantId, named] of byTenant) {
    const rows = [...named.values()];
    if (gone) {
      const hashes = [...new Set(rows.map((row) => row.sha256))].sort();
      const kept = await tx.query<{ sha256: string }>(
        `SELECT sha256 FROM attachments WHERE tenant_id = $1 AND sha256 = ANY($2::text[])
          ORDER BY sha256 FOR KEY SHARE`,
        [tenantId, hashes],
      );
      const found = new Set(kept.map((row) => row.sha256));
      const missing = hashes.filter((hash) => !found.has(hash));
      if (missing.length > 0) throw gone(missing);
    }
    await tx.query(
      `INSERT INTO attachment_owners (tenant_id, sha256, conversation_id, named_at)
       SELECT a.tenant_id, a.sha256, n.conversation_id, n.named_at
         FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS n (sha256, conversation_id, named_at)
         JOIN attachments a ON a.tenant_id = $1 AND a.sha256 = n.sha256
       ON CONFLICT (tenant_id, sha256, conversation_id)
       DO UPDATE SET named_at = greatest(attachment_owners.named_at, EXCLUDED.named_at)`,
      [
        tenantId,
        rows.map((row) => row.sha256),
        rows.map((row) => row.conversation),
        rows.map((row) => new Date(row.at).toISOString()),
      ],
    );
  }
}

/** What recording owners from the log reads: the tenant's conversation streams, opened. */
export interface OwnerSources {
  readonly sql: SqlDriver;
  readonly store: {
    readStream(tenantId: TenantId, streamId: ReturnType<typeof streamFor>): Promise<readonly RecordedEvent[]>;
  };
}

/** Reads the conversations' events (opened by the store's codec) and records the files they name. */
async function recordFromLog(sources: OwnerSources, tenantId: TenantId, conversations: readonly string[]) {
  for (const id of conversations) {
    const streamId = streamFor(StreamCategory.conversation, id);
    const events = await sources.store.readStream(tenantId, streamId);
    await withTenant(sources.sql, tenantId, (tx) => recordFileOwners(tx, { tenantId, streamId, events }));
  }
}

/**
 * Makes the owners of every file these conversations name complete, before an erasure destroys the
 * keys that open their events: the conversations' own events are read and recorded (files named
 * before owners were recorded, or by an event whose recording was missed), and, when one of those
 * files was stored before owners existed (`owners_known` false), every conversation of the tenant
 * is read once so that another contact's older message naming it is known too. Idempotent.
 */
export async function completeFileOwners(
  sources: OwnerSources,
  tenantId: TenantId,
  conversations: readonly string[],
): Promise<void> {
  await recordFromLog(sources, tenantId, conversations);
  const legacy = await withTenant(sources.sql, tenantId, (tx) =>
    tx.query(
      `SELECT 1 FROM attachments a JOIN attachment_owners o USING (tenant_id, sha256)
        WHERE o.conversation_id = ANY($1::text[]) AND NOT a.owners_known LIMIT 1`,
      [conversations],
    ),
  );
  if (legacy.length === 0) return;
  const streams = await withTenant(sources.sql, tenantId, (tx) =>
    tx.query<{ stream_id: string }>(
      `SELECT stream_id FROM streams WHERE tenant_id = $1 AND starts_with(stream_id, $2) ORDER BY stream_id`,
      [tenantId, CONVERSATION_PREFIX],
    ),
  );
  await recordFromLog(
    sources,
    tenantId,
    streams.map((row) => row.stream_id.slice(CONVERSATION_PREFIX.length)),
  );
  // Files stored since are recorded as they are named; the ones stored before are complete now.
  await withTenant(sources.sql, tenantId, (tx) =>
    tx.query('UPDATE attachments SET owners_known = true WHERE tenant_id = $1 AND NOT owners_known', [
      tenantId,
    ]),
  );
}
