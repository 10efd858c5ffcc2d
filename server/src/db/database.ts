import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import { lockDirectory } from './dir-lock';
import { pgDriver, pgliteDriver, type SqlDriver } from './driver';

/** An open database: Prisma Client for the models, the raw driver for what Prisma cannot say. */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly prisma: PrismaClient;
  readonly sql: SqlDriver;
  /** Where the data lives, for humans: a directory or a URL without its password. */
  readonly location: string;
  /** PostgreSQL only: calls `onNotify` for each NOTIFY on `channel`; resolves to a stop function. */
  readonly listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent, PGlite under `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's directory parent; `memory://` keeps an embedded database in memory only. */
  readonly dataDir?: string;
  readonly poolSize?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options.dataDir ?? 'memory://');
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => undefined); // an idle client's error surfaces on its next query
  const sql = pgDriver(pool);
  await sql.query('SELECT 1'); // fail fast, with the driver's own message, if the server is unreachable
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    sql,
    location: redactUrl(url),
    async listen(channel, onNotify) {
      // A connection of its own: LISTEN holds it for as long as the store runs.
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      client.on('notification', onNotify);
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      return async () => {
        await client.end().catch(() => undefined);
      };
    },
    async close() {
      await prisma.$disconnect();
      await sql.close();
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const dir = inMemory ? dataDir : join(dataDir, 'pglite');
  const releaseLock = inMemory ? () => undefined : lockDirectory(dataDir);
  try {
    if (!inMemory) mkdirSync(dir, { recursive: true });
    const db = await PGlite.create(dir);
    const sql = pgliteDriver(db);
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
    return {
      kind: 'pglite',
      prisma,
      sql,
      location: dir,
      async close() {
        await prisma.$disconnect();
        await sql.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgresql://(unparseable url)';
  }
}
