import type { JsonValue, StreamId, TenantId } from '@parley/domain';
import type { Database } from '../db/database';
import type { Snapshot, SnapshotStore } from './snapshots';

/** Grain snapshots in the `snapshots` table, through Prisma Client: one row per stream, newest wins. */
export function createSqlSnapshotStore(db: Database): SnapshotStore {
  return {
    async load(tenantId: TenantId, streamId: StreamId): Promise<Snapshot | undefined> {
      const row = await db.prisma.snapshot.findUnique({
        where: { tenantId_streamId: { tenantId, streamId } },
        select: { version: true, state: true },
      });
      return row ? { version: row.version, state: row.state as JsonValue } : undefined;
    },
    async save(tenantId: TenantId, streamId: StreamId, version: number, state: JsonValue): Promise<void> {
      // Two processes may race to save; the WHERE keeps an older snapshot from replacing a newer one.
      await db.prisma.$executeRaw`
        INSERT INTO snapshots (tenant_id, stream_id, version, state)
        VALUES (${tenantId}, ${streamId}, ${version}, ${JSON.stringify(state)}::jsonb)
        ON CONFLICT (tenant_id, stream_id) DO UPDATE
          SET version = EXCLUDED.version, state = EXCLUDED.state, created_at = now()
          WHERE snapshots.version < EXCLUDED.version`;
    },
  };
}
