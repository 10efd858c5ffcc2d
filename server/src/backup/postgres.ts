import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../db/database';
import {
  BackupError,
  linkBesideFiles,
  packBackup,
  stagingDir,
  type BackupOptions,
  type BackupResult,
} from './backup';

/**
 * On PostgreSQL, runs `pg_dump` (custom format) in the snapshot of a read-only transaction that also
 * counts what it holds, and packs the dump with the archive folder, attachment files and key file
 * like an embedded backup. Without `pg_dump` on PATH it says what to run instead.
 */
export async function backupPostgres(
  db: Database,
  databaseUrl: string,
  options: BackupOptions,
): Promise<BackupResult> {
  const pgDump = onPath('pg_dump', options.env);
  if (!pgDump) throw new BackupError(postgresInstructions(options.dataDir));
  const staging = stagingDir(options.dataDir);
  try {
    return await db.sql.transaction(async (tx) => {
      await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const [{ id } = { id: '' }] = await tx.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      const keyText = linkBesideFiles(options, staging);
      options.say(`running ${pgDump} in snapshot ${id}`);
      await runPgDump(pgDump, databaseUrl, id, join(staging, 'postgres.dump'), options.env);
      return packBackup(tx, 'postgres', 'postgres.dump', staging, keyText, options);
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** What to run on PostgreSQL when this machine has no `pg_dump` (also in README "Backups"). */
export function postgresInstructions(dataDir: string): string {
  return [
    'this machine has no pg_dump on PATH, so Parley cannot back up its PostgreSQL database itself.',
    'Install the PostgreSQL client of the server’s major version (Debian: apt-get install postgresql-client)',
    'and run this again, or back up by hand, in this order:',
    '  pg_dump --format=custom --no-owner --file=parley.dump "$DATABASE_URL"',
    `  tar -czf parley-files.tar.gz -C ${dataDir} archive attachments master.key   (those that exist)`,
    'Keep both together; master.key (unless PARLEY_MASTER_KEY holds the key) is what makes the data readable.',
  ].join('\n');
}

function runPgDump(
  pgDump: string,
  databaseUrl: string,
  snapshot: string,
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  // The password goes by environment, not on a command line other users can read.
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const child = spawn(
    pgDump,
    [
      '--format=custom',
      '--no-owner',
      `--snapshot=${snapshot}`,
      `--file=${file}`,
      `--dbname=${url.toString()}`,
    ],
    { env: { ...env, ...(password ? { PGPASSWORD: password } : {}) }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new BackupError(`pg_dump failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .find((path) => existsSync(path));
}
