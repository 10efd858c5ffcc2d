import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventCodec } from '../../src/crypto/event-codec';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring } from '../../src/crypto/master-key';
import { SqlEventStore } from '../../src/store/sql-store';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from '../support/databases';

/** The backends the crypto suites run on: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const BACKENDS: [string, () => Promise<TestDatabase>, boolean][] = [
  ['PGlite', freshPglite, true],
  ['PostgreSQL (DATABASE_URL)', freshPostgres, POSTGRES_URL !== undefined],
];

/** A store that seals personal data, over a fresh database and a fresh key file. */
export async function encryptedStore(create: () => Promise<TestDatabase>, clock?: () => number) {
  const test = await create();
  const keyDir = mkdtempSync(join(tmpdir(), 'parley-keys-'));
  const ring = () => loadMasterKeyring({}, keyDir);
  const keys = new KeyStore(test.db.sql, ring(), ring);
  const store = await SqlEventStore.open({
    db: test.db,
    archiveDir: join(test.dataDir, 'archive'),
    codec: createEventCodec(keys),
    clock,
  });
  return {
    test,
    keys,
    keyDir,
    store,
    async dispose() {
      await store.close();
      await test.dispose();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
