import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database';
import { migrate } from '../src/db/migrator';

/** A scratch database for a benchmark: a new database on DATABASE_URL's server, or PGlite in memory. */
export async function scratchDatabase(): Promise<{ db: Database; label: string; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) {
    const db = await openDatabase({ dataDir: 'memory://' });
    await migrate(db.sql);
    return { db, label: 'PGlite (embedded, in memory)', drop: () => db.close() };
  }
  const name = `parley_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: target.toString(), poolSize: 34 });
  await migrate(db.sql);
  return {
    db,
    label: `PostgreSQL (${new URL(url).host})`,
    async drop() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
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
