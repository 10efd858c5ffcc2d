import type { TenantId } from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { SqlDriver, SqlQueryable } from '../db/driver';
import type { BlobStore } from './blob-store';

/** Deleting stored files' bytes (docs/decisions/0022): what the attachment service is built on. */
export interface FileEraser {
  /**
   * Gives up these conversations' files: the rows of the files no other conversation names are
   * deleted (a GET finds nothing from this commit on) and their bytes queued for deletion, the
   * conversations' owner rows go, then the queue is drained. Returns the hashes whose bytes went.
   * Safe to run again: what a first run did is not done twice, what it left is done.
   */
  releaseConversations(tenantId: TenantId, conversations: readonly string[]): Promise<string[]>;
  /**
   * Gives up the files whose every naming message was recorded before `before` (decision 0031: a
   * retention sweep made their content unreadable): rows deleted, bytes queued and deleted, as
   * `releaseConversations` does. A file stored before owners were recorded, or named by nothing
   * yet (uploaded for a reply still to come), is kept. Returns the hashes whose bytes went.
   */
  releaseNamedBefore(tenantId: TenantId, before: Date): Promise<string[]>;
  /**
   * Deletes the bytes queued for deletion (of the tenant, or of every tenant: at start), each
   * taken off the queue in the transaction that deletes them; `only` limits it to some hashes.
   */
  drain(tenantId?: TenantId, only?: readonly string[]): Promise<string[]>;
}

export function createFileEraser(
  sql: SqlDriver,
  store: BlobStore,
  keyOf: (tenantId: string, sha256: string) => string,
): FileEraser {
  async function drain(tenantId?: TenantId, only?: readonly string[]): Promise<string[]> {
    if (tenantId === undefined) {
      // At start, as the owner: the tenants with bytes still to delete (a crash cut an erasure short).
      const tenants = await sql.query<{ tenant_id: TenantId }>(
        'SELECT DISTINCT tenant_id FROM attachment_erasures ORDER BY tenant_id',
      );
      const done: string[] = [];
      for (const row of tenants) done.push(...(await drain(row.tenant_id)));
      return done;
    }
    const queued = await withTenant(sql, tenantId, (tx) =>
      tx.query<{ sha256: string }>(
        only === undefined
          ? 'SELECT sha256 FROM attachment_erasures ORDER BY sha256'
          : 'SELECT sha256 FROM attachment_erasures WHERE sha256 = ANY($1::text[]) ORDER BY sha256',
        only === undefined ? [] : [only],
      ),
    );
    const done: string[] = [];
    for (const { sha256 } of queued) {
      // The queue row is locked while the bytes go: a second drain (another process, an upload of
      // the same bytes again) waits, finds it gone and deletes nothing it did not queue. A delete
      // that fails rolls the row back onto the queue for the next drain.
      const deleted = await withTenant(sql, tenantId, async (tx) => {
        const taken = await tx.query('DELETE FROM attachment_erasures WHERE sha256 = $1 RETURNING sha256', [
          sha256,
        ]);
        if (taken.length > 0) await store.delete(keyOf(tenantId, sha256));
        return taken.length > 0;
      });
      if (deleted) done.push(sha256);
    }
    return done;
  }

  /** In the caller's transaction: deletes the locked files' rows that `stillFree` keeps, and queues them. */
  async function giveUp(
    tx: SqlQueryable,
    tenantId: TenantId,
    candidates: readonly { sha256: string }[],
    stillFree: string,
    parameter: unknown,
  ): Promise<void> {
    if (candidates.length === 0) return;
    // A statement of its own after the lock: it sees every owner committed before the lock.
    const gone = await tx.query<{ sha256: string }>(
      `DELETE FROM attachments a WHERE a.sha256 = ANY($1::text[]) AND ${stillFree} RETURNING a.sha256`,
      [candidates.map((row) => row.sha256), parameter],
    );
    await tx.query(
      `INSERT INTO attachment_erasures (tenant_id, sha256)
       SELECT $1, sha256 FROM unnest($2::text[]) AS gone (sha256) ON CONFLICT DO NOTHING`,
      [tenantId, gone.map((row) => row.sha256)],
    );
  }

  return {
    drain,
    async releaseNamedBefore(tenantId, before) {
      const namedSince = `NOT EXISTS (SELECT 1 FROM attachment_owners o
                          WHERE o.tenant_id = a.tenant_id AND o.sha256 = a.sha256 AND o.named_at >= $2)`;
      await withTenant(sql, tenantId, async (tx) => {
        const candidates = await tx.query<{ sha256: string }>(
          `SELECT a.sha256 FROM attachments a
            WHERE a.owners_known
              AND EXISTS (SELECT 1 FROM attachment_owners o WHERE o.tenant_id = a.tenant_id AND o.sha256 = a.sha256)
              AND ${namedSince.replace('$2', '$1')}
            ORDER BY a.sha256 FOR UPDATE`,
          [before.toISOString()],
        );
        await giveUp(tx, tenantId, candidates, namedSince, before.toISOString());
      });
      return drain(tenantId);
    },
    async releaseConversations(tenantId, conversations) {
      await withTenant(sql, tenantId, async (tx) => {
        // Lock the candidate files first: a reply naming one (its owner row's foreign key check)
        // then waits for this transaction.
        const candidates = await tx.query<{ sha256: string }>(
          `SELECT sha256 FROM attachments
            WHERE sha256 IN (SELECT sha256 FROM attachment_owners WHERE conversation_id = ANY($1::text[]))
            ORDER BY sha256 FOR UPDATE`,
          [conversations],
        );
        await giveUp(
          tx,
          tenantId,
          candidates,
          `NOT EXISTS (SELECT 1 FROM attachment_owners o
                        WHERE o.tenant_id = a.tenant_id AND o.sha256 = a.sha256
                          AND NOT (o.conversation_id = ANY($2::text[])))`,
          conversations,
        );
        // A file another conversation still names stays; these conversations no longer own it.
        await tx.query('DELETE FROM attachment_owners WHERE conversation_id = ANY($1::text[])', [
          conversations,
        ]);
      });
      return drain(tenantId);
    },
  };
}
