import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database';
import { migrate } from '../../src/db/migrator';

/** The PostgreSQL server the suites also run against, when DATABASE_URL is set. */
export const POSTGRES_URL = process.env.DATABASE_URL?.trim() || undefined;

export interface TestDatabase {
  readonly kind: 'pglite' | 'postgres';
  /** Opens another connection to the same database, as a second Parley process would. */
  open(): Promise<Database>;
  readonly db: Database;
  readonly dataDir: string;
  dispose(): Promise<void>;
}

/** A fresh, migrated, embedded database in memory. */
export async function freshPglite(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const db = await openDatabase({ dataDir: 'memory://' });
  await migrate(db.sql);
  return {
    kind: 'pglite',
    db,
    dataDir,
    open: () => {
      throw new Error('PGlite is one process: it has no second connection');
    },
    async dispose() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh, migrated database of its own on the DATABASE_URL server, dropped afterwards. */
export async function freshPostgres(url = POSTGRES_URL): Promise<TestDatabase> {
  if (!url) throw new Error('DATABASE_URL is not set');
  const name = `parley_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const opened: Database[] = [];
  const open = async () => {
    const db = await openDatabase({ databaseUrl: target.toString() });
    opened.push(db);
    return db;
  };
  const db = await open();
  await migrate(db.sql);
  return {
    kind: 'postgres',
    db,
    dataDir,
    open,
    async dispose() {
      for (const each of opened) await each.close().catch(() => undefined);
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
