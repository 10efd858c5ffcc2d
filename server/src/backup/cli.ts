import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { callerDir } from '../contacts/cli';
import type { Database } from '../db/database';
import type { ProgressOutput } from '../projections/cli';
import { backupEmbedded, megabytes, type BackupResult } from './backup';
import { backupPostgres } from './postgres';
import { restoreEmbedded, RestoreError, type RestoreResult } from './restore';

export const BACKUP_USAGE = `  backup [file] [--without-keys]
                            copy the database, archived days, attachment files and master key
                            into one .tar.gz (default parley-backup-<time>.tar.gz), consistent while
                            Parley runs; prints its size and SHA-256 (also in <file>.sha256). On
                            PostgreSQL: pg_dump in one snapshot with the same files, or what to run
  restore <file> [--force]  replace DATA_DIR's embedded database and files by a backup's, with
                            Parley stopped; --force moves data already there to DATA_DIR.replaced-<time>`;

interface Host {
  readonly dataDir: string;
  withDb(fn: (db: Database) => Promise<void>): Promise<void>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `restore <arg>` means a backup file unless the argument is a day and no such file exists. */
export function isBackupRestore(arg: string | undefined): boolean {
  return arg !== undefined && (!DAY.test(arg) || existsSync(resolve(callerDir(), arg)));
}

/**
 * The backup's path, absolute (a running server writes it from its own working directory), with
 * the default name made here: `parley-backup-<UTC time>.tar.gz` where the person ran the command.
 */
export function backupTarget(file: string | undefined, now = new Date()): string {
  const name = file ?? `parley-backup-${now.toISOString().slice(0, 19).replace(/:/g, '')}Z.tar.gz`;
  return resolve(callerDir(), name);
}

/** `backup [file]` (docs/decisions/0037). */
export async function runBackupCommand(
  host: Host,
  file: string | undefined,
  options: { withoutKeys: boolean; databaseUrl: string | undefined },
  print: (line: string) => void,
  progress: ProgressOutput | undefined,
): Promise<void> {
  const say = (line: string) => (progress ? progress.write(`${line}\n`) : print(line));
  const base = {
    dataDir: host.dataDir,
    target: backupTarget(file),
    withoutKeys: options.withoutKeys,
    env: process.env,
    say,
  };
  await host.withDb(async (db) => {
    const result =
      db.kind === 'postgres' && options.databaseUrl
        ? await backupPostgres(db, options.databaseUrl, base)
        : await backupEmbedded(db, base);
    printBackup(result, print);
  });
}

function printBackup({ path, size, sha256, manifest }: BackupResult, print: (line: string) => void): void {
  const c = manifest.counts;
  print(`backup written to ${path}`);
  print(`  size:     ${megabytes(size)} (${size} bytes)`);
  print(`  sha256:   ${sha256} (also in ${path}.sha256)`);
  print(
    `  holds:    ${c.tenants} tenant(s), ${c.agents} agent(s), ${c.streams} stream(s), ${c.events} event(s) ` +
      `+ ${c.archivedEvents} in ${c.archivedDays} archived day(s), ${c.attachments} attachment(s)`,
  );
  print(
    `  made:     ${manifest.createdAt} by Parley ${manifest.parleyVersion} (${manifest.database}, ` +
      `${manifest.migrations.length} migrations); master key ${manifest.masterKeys.included ? 'included' : 'NOT included'}`,
  );
}

/** `restore <file> [--force]`: embedded only; on PostgreSQL it says what to run. */
export async function runRestoreCommand(
  dataDir: string,
  file: string,
  options: { force: boolean; databaseUrl: string | undefined },
  print: (line: string) => void,
  progress: ProgressOutput | undefined,
): Promise<void> {
  if (options.databaseUrl) {
    throw new RestoreError(
      [
        'Parley restores only its embedded database; on PostgreSQL restore by hand (README, "Backups"):',
        `  mkdir restore && tar -xzf ${file} -C restore`,
        '  createdb parley_restored   # an empty database; the cluster needs the role parley_app (NOLOGIN)',
        '  pg_restore --no-owner --exit-on-error --dbname=postgresql://.../parley_restored restore/postgres.dump',
        `  cp -r restore/archive restore/attachments restore/master.key into DATA_DIR (those the backup has)`,
        '  psql .../parley_restored -c "UPDATE sync_epoch SET epoch = substr(md5(random()::text), 1, 12)"',
        'then point DATABASE_URL at it. Into a new cluster, see docs/decisions/0037 for the transaction ids.',
      ].join('\n'),
    );
  }
  const say = (line: string) => (progress ? progress.write(`${line}\n`) : print(line));
  const result = await restoreEmbedded({
    file: resolve(callerDir(), file),
    dataDir,
    force: options.force,
    env: process.env,
    say,
  });
  printRestore(result, dataDir, print);
}

function printRestore(
  { manifest, replacedTo, missingKeys }: RestoreResult,
  dataDir: string,
  print: (line: string) => void,
): void {
  const c = manifest.counts;
  print(`restored the backup of ${manifest.createdAt} (Parley ${manifest.parleyVersion}) into ${dataDir}`);
  print(
    `  holds:    ${c.tenants} tenant(s), ${c.agents} agent(s), ${c.streams} stream(s), ${c.events} event(s) ` +
      `+ ${c.archivedEvents} in ${c.archivedDays} archived day(s), ${c.attachments} attachment(s)`,
  );
  if (replacedTo) print(`  the data it replaced is in ${replacedTo}: delete it once you are satisfied`);
  print('  devices will resynchronise (the log has a new sync epoch); start Parley with npm start');
  if (missingKeys.length > 0) {
    print(
      `WARNING: the restored data is sealed by master key(s) ${missingKeys.join(', ')}, which neither ` +
        'PARLEY_MASTER_KEY nor DATA_DIR/master.key holds: put that key back before starting Parley, ' +
        'or it cannot read conversations (and makes a new key on first start)',
    );
  }
}
