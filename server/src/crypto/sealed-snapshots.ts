import type { JsonValue, StreamId, TenantId } from '@parley/domain';
import type { Snapshot, SnapshotStore } from '../actors/snapshots';
import type { Database } from '../db/database';
import { open, seal, type Key } from './aead';
import type { KeyStore } from './keys';

/**
 * A stored snapshot's `state` once sealed: `k` names the contact key that sealed it, or `tenant`
 * for the tenant key (grains without personal data of one contact: inboxes, workflows, cards).
 */
interface SealedState {
  readonly $sealed: { readonly k: string; readonly iv: string; readonly ct: string };
}

const TENANT = 'tenant';

/** The streams the event codec seals with a contact key (docs/decisions/0022). */
const PERSONAL_STREAM = /^(conversation|contact)-/;

/** Tenant, stream and version are authenticated: a snapshot copied to another stream or version does not open. */
const aad = (tenantId: string, streamId: string, version: number, keyId: string) =>
  `parley:snapshot:${tenantId}:${streamId}:${version}:${keyId}`;

function isSealed(value: unknown): value is SealedState {
  if (typeof value !== 'object' || value === null || !('$sealed' in value)) return false;
  const sealed: unknown = value.$sealed;
  if (typeof sealed !== 'object' || sealed === null) return false;
  const { k, iv, ct } = sealed as Record<string, unknown>;
  return typeof k === 'string' && typeof iv === 'string' && typeof ct === 'string';
}

/** A sealed snapshot that does not open under its key: moved to another stream, or altered. */
export class SnapshotSealBrokenError extends Error {
  override readonly name = 'SnapshotSealBrokenError';
}

/**
 * Grain snapshots in the `snapshots` table, sealed at rest (docs/decisions/0032): a conversation's
 * with its contact's key, other grains' with the tenant key. A snapshot whose contact key was
 * destroyed loads as none (the grain folds the log, which reads "[erased]"); one written in clear
 * before sealing existed loads as it is and is sealed when next written.
 *
 * A contact's state is sealed with the key this process holds for the stream at the moment the
 * runtime hands the state over (before any await): an erasure in this process drops that key
 * first, so a save already under way cannot pick up the contact's next key. When no key is held,
 * the save is skipped and the key is fetched for the next one. The write itself only happens
 * while the key is still live in the database, so a save that loses the race with an erasure in
 * another process writes nothing.
 */
export function createSealedSnapshotStore(db: Database, keys: KeyStore): SnapshotStore {
  return {
    async load(tenantId: TenantId, streamId: StreamId): Promise<Snapshot | undefined> {
      const [row] = await db.sql.query<{ version: number; state: JsonValue }>(
        'SELECT version, state FROM snapshots WHERE tenant_id = $1 AND stream_id = $2',
        [tenantId, streamId],
      );
      if (!row) return undefined;
      if (!isSealed(row.state)) return { version: row.version, state: row.state };
      const { k } = row.state.$sealed;
      const key = k === TENANT ? await keys.tenantKey(tenantId) : await keys.contactKey(tenantId, k);
      if (!key) return undefined; // erased: the log folds to "[erased]" instead
      let plain: Buffer;
      try {
        plain = open(key, row.state.$sealed, aad(tenantId, streamId, row.version, k));
      } catch {
        throw new SnapshotSealBrokenError(
          `the snapshot of ${streamId} at version ${row.version} does not open under its key`,
        );
      }
      return { version: row.version, state: JSON.parse(plain.toString('utf8')) as JsonValue };
    },

    save(tenantId: TenantId, streamId: StreamId, version: number, state: JsonValue): Promise<void> {
      const sealWith = (key: Key, keyId: string): SealedState => ({
        $sealed: {
          k: keyId,
          ...seal(key, Buffer.from(JSON.stringify(state), 'utf8'), aad(tenantId, streamId, version, keyId)),
        },
      });
      if (!PERSONAL_STREAM.test(streamId)) {
        return keys
          .tenantKey(tenantId)
          .then((key) => write(tenantId, streamId, version, sealWith(key, TENANT), undefined));
      }
      // Taken now, without an await: the key that was live when this state was captured.
      const held = keys.cachedKeyForStream(tenantId, streamId);
      if (!held) {
        // Skipped; the next save finds the key in memory. A missing snapshot costs a longer replay.
        return keys.liveKeyForStream(tenantId, streamId).then(() => undefined);
      }
      return write(tenantId, streamId, version, sealWith(held.key, held.id), held.id);
    },
  };

  async function write(
    tenantId: TenantId,
    streamId: StreamId,
    version: number,
    sealed: SealedState,
    contactKeyId: string | undefined,
  ): Promise<void> {
    // Newest wins when two processes race (as in sql-snapshots.ts); a contact's snapshot is written
    // only while its key is live, so one sealed just before an erasure is not written after it.
    await db.sql.query(
      `INSERT INTO snapshots (tenant_id, stream_id, version, state)
       SELECT $1, $2, $3, $4::jsonb
        WHERE $5::text IS NULL OR EXISTS (
          SELECT 1 FROM contact_keys
           WHERE tenant_id = $1 AND key_id::text = $5::text AND destroyed_at IS NULL)
       ON CONFLICT (tenant_id, stream_id) DO UPDATE
         SET version = EXCLUDED.version, state = EXCLUDED.state, created_at = now()
         WHERE snapshots.version < EXCLUDED.version`,
      [tenantId, streamId, version, JSON.stringify(sealed), contactKeyId ?? null],
    );
  }
}
