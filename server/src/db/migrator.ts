import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDriver, SqlQueryable } from './driver';

/** A migration file: `prisma/migrations/<timestamp>_<name>/migration.sql`. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationState {
  readonly applied: readonly string[];
  readonly pending: readonly string[];
}

/** An applied migration's file no longer matches what was applied. */
export class MigrationChecksumError extends Error {
  override readonly name = 'MigrationChecksumError';
  readonly code = 'MIGRATION_TAMPERED';
  constructor(readonly migration: string) {
    super(
      `migration ${migration} was edited after it was applied (checksum differs); ` +
        'restore the original file and put the change in a new migration',
    );
  }
}

export const MIGRATIONS_DIR = new URL('../../../prisma/migrations/', import.meta.url).pathname;

// Any constant works: it only has to be the same in every Parley process.
const MIGRATION_LOCK_KEY = 724_203_111;

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) throw new Error(`no migrations directory at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{14}_[a-z0-9_]+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256(sql) };
    });
}

/**
 * Applies pending migrations in name order, each in its own transaction under an advisory lock,
 * so two processes starting at once apply each migration exactly once. Refuses to run if an
 * applied migration's file was changed.
 */
export async function migrate(
  sql: SqlDriver,
  migrations: readonly Migration[] = loadMigrations(),
  onApplied: (name: string) => void = () => undefined,
): Promise<MigrationState> {
  await sql.transaction(async (tx) => {
    // Even IF NOT EXISTS races in PostgreSQL's catalog: create the table under the lock too.
    await lock(sql.kind, tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS parley_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz(3) NOT NULL DEFAULT now()
    )`);
  });
  const appliedNow: string[] = [];
  for (const migration of migrations) {
    const applied = await sql.transaction(async (tx) => {
      await lock(sql.kind, tx);
      const recorded = await appliedChecksums(tx);
      verify(recorded, migrations);
      if (recorded.has(migration.name)) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO parley_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (applied) {
      appliedNow.push(migration.name);
      onApplied(migration.name);
    }
  }
  return migrationState(sql, migrations);
}

/** Which migrations are applied and which are pending, checking the applied ones' checksums. */
export async function migrationState(
  sql: SqlQueryable,
  migrations: readonly Migration[] = loadMigrations(),
): Promise<MigrationState> {
  const exists = await sql.query<{ present: boolean }>(
    "SELECT to_regclass('parley_migrations') IS NOT NULL AS present",
  );
  const recorded = exists[0]?.present ? await appliedChecksums(sql) : new Map<string, string>();
  verify(recorded, migrations);
  return {
    applied: migrations.filter((m) => recorded.has(m.name)).map((m) => m.name),
    pending: migrations.filter((m) => !recorded.has(m.name)).map((m) => m.name),
  };
}

async function lock(kind: SqlDriver['kind'], tx: SqlQueryable): Promise<void> {
  // PGlite is one process (its data directory is locked), so its transaction is lock enough.
  if (kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
}

async function appliedChecksums(sql: SqlQueryable): Promise<Map<string, string>> {
  const rows = await sql.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM parley_migrations ORDER BY name',
  );
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

function verify(recorded: ReadonlyMap<string, string>, migrations: readonly Migration[]): void {
  for (const migration of migrations) {
    const checksum = recorded.get(migration.name);
    if (checksum !== undefined && checksum !== migration.checksum)
      throw new MigrationChecksumError(migration.name);
  }
}

function sha256(text: string): string {
  // Line endings are normalised so a checkout with CRLF does not look like an edit.
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}
