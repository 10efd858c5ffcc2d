import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { openDatabase, type Database, type OpenDatabaseOptions } from '../src/db/database';
import { migrate } from '../src/db/migrator';

/** Where a benchmark's scratch database lives, before anything opens it, and how to remove it. */
export interface ScratchLocation {
  readonly options: OpenDatabaseOptions;
  readonly label: string;
  /** Removes the database (its directory, or the database on the server); close it first. */
  drop(): Promise<void>;
}

/**
 * A scratch database location: a new database on DATABASE_URL's server, else PGlite in
 * `pgliteDir` (a directory this benchmark owns and removes) or in memory without one.
 */
export async function scratchLocation(pgliteDir?: string): Promise<ScratchLocation> {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) {
    if (!pgliteDir) {
      return {
        options: { dataDir: 'memory://' },
        label: 'PGlite (embedded, in memory)',
        drop: () => Promise.resolve(),
      };
    }
    return {
      options: { dataDir: pgliteDir },
      label: `PGlite (embedded, in ${pgliteDir})`,
      drop: () => Promise.resolve(rmSync(pgliteDir, { recursive: true, force: true })),
    };
  }
  const name = `parley_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    options: { databaseUrl: target.toString(), poolSize: 34 },
    label: `PostgreSQL (${new URL(url).host})`,
    async drop() {
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A scratch database for a benchmark: a new database on DATABASE_URL's server, or PGlite in memory. */
export async function scratchDatabase(): Promise<{ db: Database; label: string; drop: () => Promise<void> }> {
  const location = await scratchLocation();
  const db = await openDatabase(location.options);
  await migrate(db.sql);
  return {
    db,
    label: location.label,
    async drop() {
      await db.close();
      await location.drop();
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `writers` loops of `calls` each, concurrently; returns elapsed seconds. */
export async function concurrently(
  writers: number,
  calls: number,
  body: (writer: number, call: number) => Promise<void>,
): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let call = 0; call < calls; call++) await body(writer, call);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}
