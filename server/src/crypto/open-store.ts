import { join } from 'node:path';
import type { Database } from '../db/database';
import { SqlEventStore } from '../store/sql-store';
import { createEventCodec } from './event-codec';
import { KeyStore } from './keys';
import { loadMasterKeyring, type MasterKeyring } from './master-key';

/** The event store over a data folder, as the server opens it, for commands run beside it. */
export interface SealedStore {
  readonly ring: MasterKeyring;
  readonly keys: KeyStore;
  readonly store: SqlEventStore;
}

/**
 * Opens the store of `dataDir` the way the server does (docs/decisions/0022): personal data sealed
 * and opened with the master key of `PARLEY_MASTER_KEY` or the folder's key file, archived days
 * read from its `archive`. The caller closes `store`.
 */
export async function openSealedStore(db: Database, dataDir: string): Promise<SealedStore> {
  const ring = loadMasterKeyring(process.env, dataDir);
  const keys = new KeyStore(db.sql, ring);
  const store = await SqlEventStore.open({
    db,
    archiveDir: join(dataDir, 'archive'),
    codec: createEventCodec(keys),
  });
  return { ring, keys, store };
}
