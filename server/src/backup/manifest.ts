import type { SqlQueryable } from '../db/driver';

/** The name of a backup's manifest, its first entry. */
export const MANIFEST = 'parley-backup.json';
export const BACKUP_FORMAT = 'parley-backup/1';

/** What a backup holds, counted in its own copy of the database. */
export interface BackupCounts {
  readonly tenants: number;
  readonly agents: number;
  readonly streams: number;
  /** Events in the database's day partitions. */
  readonly events: number;
  readonly archivedDays: number;
  /** Events in archived days' files. */
  readonly archivedEvents: number;
  readonly attachments: number;
}

export interface BackupFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** `parley-backup.json`: written first, checked whole before a restore changes anything. */
export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly parleyVersion: string;
  readonly createdAt: string;
  readonly database: 'pglite' | 'postgres';
  /** Migrations applied in the copy, in order. */
  readonly migrations: readonly string[];
  readonly counts: BackupCounts;
  readonly masterKeys: {
    /** Fingerprints of the master keys the copy's tenant keys are sealed by. */
    readonly needed: readonly string[];
    /** Whether `master.key` is in the backup (never when the keys come from PARLEY_MASTER_KEY). */
    readonly included: boolean;
  };
  /** Every other entry of the backup, with its size and SHA-256. */
  readonly files: readonly BackupFile[];
}

/** The counts of a database (a backup's copy, or a restored one), in one read-only pass. */
export async function countDatabase(sql: SqlQueryable): Promise<BackupCounts> {
  const [row] = await sql.query<Record<keyof BackupCounts, number>>(
    `SELECT (SELECT count(*) FROM tenants)::int AS tenants,
            (SELECT count(*) FROM agents)::int AS agents,
            (SELECT count(*) FROM streams)::int AS streams,
            (SELECT count(*) FROM events)::int AS events,
            (SELECT count(*) FROM archive_segments)::int AS "archivedDays",
            (SELECT coalesce(sum(row_count), 0) FROM archive_segments)::int AS "archivedEvents",
            (SELECT count(*) FROM attachments)::int AS attachments`,
  );
  return row!;
}

/** The applied migrations and the master keys a database needs. */
export async function describeDatabase(
  sql: SqlQueryable,
): Promise<{ migrations: string[]; neededKeys: string[] }> {
  const migrations = await sql.query<{ name: string }>('SELECT name FROM parley_migrations ORDER BY name');
  const keys = await sql.query<{ id: string }>(
    'SELECT DISTINCT master_key_id AS id FROM tenant_keys ORDER BY master_key_id',
  );
  return { migrations: migrations.map((m) => m.name), neededKeys: keys.map((k) => k.id) };
}

/** The manifest in `text`, or why it is not one this Parley reads. */
export function parseManifest(text: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${MANIFEST} is not JSON`);
  }
  const m = value as Partial<BackupManifest> | null;
  if (typeof m !== 'object' || m === null || m.format !== BACKUP_FORMAT) {
    throw new Error(`${MANIFEST} is not a ${BACKUP_FORMAT} manifest`);
  }
  const fileOk = (f: Partial<BackupFile>) =>
    typeof f.path === 'string' &&
    Number.isInteger(f.size) &&
    typeof f.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(f.sha256);
  if (
    (m.database !== 'pglite' && m.database !== 'postgres') ||
    !Array.isArray(m.migrations) ||
    !Array.isArray(m.files) ||
    !m.files.every(fileOk) ||
    typeof m.counts !== 'object' ||
    typeof m.masterKeys !== 'object'
  ) {
    throw new Error(`${MANIFEST} lacks fields a ${BACKUP_FORMAT} manifest has`);
  }
  return m as BackupManifest;
}
