import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventCodec } from '../../src/crypto/event-codec';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring } from '../../src/crypto/master-key';
import type { Database } from '../../src/db/database';
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
    codec: createEventCodec(keys, clock ? { clock } : {}),
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

/** Every row of every table (day partitions included), as text: a pg_dump of the data, in effect. */
export async function dumpAllTables(db: Database): Promise<string> {
  const tables = await db.sql.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await db.sql.query(`SELECT * FROM "${table_name}"`);
    parts.push(`${table_name}: ${JSON.stringify(rows)}`);
  }
  return parts.join('\n');
}
