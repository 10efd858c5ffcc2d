import type { JsonValue, StreamId, TenantId } from '@parley/domain';

/** A grain's state as of a stream version, stored so activation need not replay the whole stream. */
export interface Snapshot {
  readonly version: number;
  readonly state: JsonValue;
}

/**
 * Where grain snapshots live: one row per stream, the latest only. `save` must never replace a
 * snapshot with an older one (two processes may race); in SQL that is
 * `ON CONFLICT (tenant_id, stream_id) DO UPDATE ... WHERE snapshots.version < excluded.version`.
 */
export interface SnapshotStore {
  /** The latest snapshot of a stream, or undefined when there is none. */
  load(tenantId: TenantId, streamId: StreamId): Promise<Snapshot | undefined>;
  /** Keeps `state` as the stream's snapshot at `version`, unless a newer one is already kept. */
  save(tenantId: TenantId, streamId: StreamId, version: number, state: JsonValue): Promise<void>;
}

/** The in-memory snapshot store, with a count for tests. */
export interface MemorySnapshotStore extends SnapshotStore {
  /** How many streams have a snapshot. */
  readonly size: number;
}

/** Creates a snapshot store in this process's memory; states go through JSON as they would in SQL. */
export function createMemorySnapshotStore(): MemorySnapshotStore {
  const snapshots = new Map<string, { readonly version: number; readonly json: string }>();
  return {
    get size() {
      return snapshots.size;
    },
    load(tenantId, streamId) {
      const stored = snapshots.get(`${tenantId}/${streamId}`);
      return Promise.resolve(
        stored && { version: stored.version, state: JSON.parse(stored.json) as JsonValue },
      );
    },
    save(tenantId, streamId, version, state) {
      const key = `${tenantId}/${streamId}`;
      const stored = snapshots.get(key);
      if (!stored || stored.version < version) snapshots.set(key, { version, json: JSON.stringify(state) });
      return Promise.resolve();
    },
  };
}
