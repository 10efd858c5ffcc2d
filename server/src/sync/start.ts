import type { Checkpoint, TenantId } from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { Database } from '../db/database';
import { listSegments } from '../store/archive';
import { compareCheckpoints, formatCheckpoint, parseCheckpoint, START } from '../store/checkpoint';
import { tenantCursors, type TenantCursors } from './cursor';

export { syncEpoch } from './cursor';

/** Why a cursor cannot be continued, so the client must reload its state. */
export type ResyncReason =
  /** Not a cursor at all. */
  | 'cursor-malformed'
  /** Issued by another database, or ahead of everything this one has committed. */
  | 'cursor-unknown'
  /** Not sealed by this server for this tenant: edited, forged, or another tenant's (decision 0016). */
  | 'cursor-forged'
  /** Continuing would need events the server has archived out of the database. */
  | 'cursor-archived'
  /** The agent joined or left an inbox since the cursor: what they may see changed (decision 0015). */
  | 'scope-changed';

/** Reload through the queries, then continue from `cursor` (the log's head when this was answered). */
export interface ResyncAnswer {
  readonly kind: 'resync';
  readonly reason: ResyncReason;
  readonly cursor: string;
}

/** Where to read from: a checkpoint to continue after, or a resync. */
export type Start =
  { readonly kind: 'continue'; readonly cursors: TenantCursors; readonly after: Checkpoint } | ResyncAnswer;

/**
 * Decides where a client's catch-up or live stream starts. `null` is the beginning of the log. A
 * cursor that does not parse, comes from another epoch, was not sealed for this tenant, lies beyond every transaction this
 * database has started, or would need archived days, gets a resync: never a silent gap.
 */
export async function resolveStart(db: Database, tenantId: TenantId, cursor: string | null): Promise<Start> {
  const cursors = await tenantCursors(db, tenantId);
  let after: Checkpoint = START;
  if (cursor !== null) {
    const opened = cursors.open(cursor);
    if (opened.kind === 'malformed') return resync(db, tenantId, cursors, 'cursor-malformed');
    if (opened.kind === 'foreign') return resync(db, tenantId, cursors, 'cursor-unknown');
    // A forged cursor learns nothing: it gets the tenant's own head, sealed, like any resync.
    if (opened.kind === 'forged') return resync(db, tenantId, cursors, 'cursor-forged');
    const [snapshot] = await db.sql.query<{ xmax: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
    );
    if (!snapshot || parseCheckpoint(opened.checkpoint).tx >= BigInt(snapshot.xmax)) {
      return resync(db, tenantId, cursors, 'cursor-unknown');
    }
    after = opened.checkpoint;
  }
  // Archived days are kept for the audit trail, not for clients: a client that would need them
  // reloads its state from the queries instead.
  const segments = await listSegments(db);
  const archivedPast = segments.some(
    (segment) =>
      segment.max_checkpoint !== null && compareCheckpoints(segment.max_checkpoint as Checkpoint, after) > 0,
  );
  if (archivedPast) return resync(db, tenantId, cursors, 'cursor-archived');
  return { kind: 'continue', cursors, after };
}

/** A resync to the tenant's head, sealed. */
export async function resync(
  db: Database,
  tenantId: TenantId,
  cursors: TenantCursors,
  reason: ResyncReason,
): Promise<ResyncAnswer> {
  return { kind: 'resync', reason, cursor: cursors.seal(await headOf(db, tenantId)) };
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
