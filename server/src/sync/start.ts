import type { Checkpoint, TenantId } from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { Database } from '../db/database';
import { listSegments } from '../store/archive';
import { compareCheckpoints, formatCheckpoint, parseCheckpoint, START } from '../store/checkpoint';
import { decodeCursor, encodeCursor } from './cursor';

/** Why a cursor cannot be continued, so the client must reload its state. */
export type ResyncReason =
  /** Not a cursor at all. */
  | 'cursor-malformed'
  /** Issued by another database, or ahead of everything this one has committed. */
  | 'cursor-unknown'
  /** Continuing would need events the server has archived out of the database. */
  | 'cursor-archived';

/** Reload through the queries, then continue from `cursor` (the log's head when this was answered). */
export interface ResyncAnswer {
  readonly kind: 'resync';
  readonly reason: ResyncReason;
  readonly cursor: string;
}

/** Where to read from: a checkpoint to continue after, or a resync. */
export type Start =
  { readonly kind: 'continue'; readonly epoch: string; readonly after: Checkpoint } | ResyncAnswer;

const epochs = new WeakMap<Database, Promise<string>>();

/** The epoch of this database's log (made once by the accounts migration). */
export function syncEpoch(db: Database): Promise<string> {
  let epoch = epochs.get(db);
  if (!epoch) {
    epoch = db.sql.query<{ epoch: string }>('SELECT epoch FROM sync_epoch').then((rows) => {
      if (!rows[0]) throw new Error('sync_epoch is empty: the accounts migration did not run');
      return rows[0].epoch;
    });
    epoch.catch(() => epochs.delete(db));
    epochs.set(db, epoch);
  }
  return epoch;
}

/**
 * Decides where a client's catch-up or live stream starts. `null` is the beginning of the log. A
 * cursor that does not parse, comes from another epoch, lies beyond every transaction this
 * database has started, or would need archived days, gets a resync: never a silent gap.
 */
export async function resolveStart(db: Database, tenantId: TenantId, cursor: string | null): Promise<Start> {
  const epoch = await syncEpoch(db);
  let after: Checkpoint = START;
  if (cursor !== null) {
    const decoded = decodeCursor(cursor);
    if (!decoded) return resync(db, tenantId, epoch, 'cursor-malformed');
    if (decoded.epoch !== epoch) return resync(db, tenantId, epoch, 'cursor-unknown');
    const [snapshot] = await db.sql.query<{ xmax: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
    );
    if (!snapshot || parseCheckpoint(decoded.checkpoint).tx >= BigInt(snapshot.xmax)) {
      return resync(db, tenantId, epoch, 'cursor-unknown');
    }
    after = decoded.checkpoint;
  }
  // Archived days are kept for the audit trail, not for clients: a client that would need them
  // reloads its state from the queries instead.
  const segments = await listSegments(db);
  const archivedPast = segments.some(
    (segment) =>
      segment.max_checkpoint !== null && compareCheckpoints(segment.max_checkpoint as Checkpoint, after) > 0,
  );
  if (archivedPast) return resync(db, tenantId, epoch, 'cursor-archived');
  return { kind: 'continue', epoch, after };
}

async function resync(
  db: Database,
  tenantId: TenantId,
  epoch: string,
  reason: ResyncReason,
): Promise<ResyncAnswer> {
  return { kind: 'resync', reason, cursor: encodeCursor(epoch, await headOf(db, tenantId)) };
}

/**
 * The tenant's last committed event that every reader can see (below the snapshot's xmin, as the
 * store reads), or the newest archived checkpoint when the database holds none of its events.
 * Queried as the tenant, so row-level security alone keeps it to the tenant's events.
 */
export async function headOf(db: Database, tenantId: TenantId): Promise<Checkpoint> {
  const rows = await withTenant(db.sql, tenantId, (tx) =>
    tx.query<{ tx: string; pos: string }>(
      `SELECT tx_id::text AS tx, position::text AS pos FROM events
        WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id DESC, position DESC LIMIT 1`,
    ),
  );
  let head: Checkpoint = rows[0] ? formatCheckpoint(rows[0].tx, rows[0].pos) : START;
  for (const segment of await listSegments(db)) {
    const archived = segment.max_checkpoint as Checkpoint | null;
    if (archived !== null && compareCheckpoints(archived, head) > 0) head = archived;
  }
  return head;
}
