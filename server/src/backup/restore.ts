import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { extract as extractTar } from 'tar';
import { masterKeyPath } from '../crypto/master-key';
import { liveHolder, lockDirectory } from '../db/dir-lock';
import { pgliteDriver } from '../db/driver';
import { loadMigrations } from '../db/migrator';
import { describeFile, keyFileFingerprints, megabytes, removeStaleStaging, walk } from './backup';
import { countDatabase, describeDatabase, MANIFEST, parseManifest, type BackupManifest } from './manifest';

export interface RestoreOptions {
  /** The backup (absolute path). */
  readonly file: string;
  readonly dataDir: string;
  /** Replace data DATA_DIR already holds (moved aside, not deleted). */
  readonly force: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly say: (line: string) => void;
}

export interface RestoreResult {
  readonly manifest: BackupManifest;
  /** Where the data the restore replaced was moved, if any. */
  readonly replacedTo: string | undefined;
  /** Master keys the restored data needs that neither the environment nor DATA_DIR holds. */
  readonly missingKeys: readonly string[];
}

export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

/** What a DATA_DIR holds that a restore replaces. */
const DATA = ['pglite', 'archive', 'attachments', 'master.key'] as const;

/**
 * Restores an embedded backup into DATA_DIR (docs/decisions/0037). Everything is unpacked and
 * checked beside DATA_DIR first (manifest, every file's size and SHA-256, the database opened and
 * counted); only then, holding DATA_DIR's lock, is existing data moved aside and the backup's
 * moved in. A refused restore changes nothing in DATA_DIR.
 */
export async function restoreEmbedded(options: RestoreOptions): Promise<RestoreResult> {
  const { file, dataDir, say } = options;
  if (!existsSync(file) || !statSync(file).isFile()) throw new RestoreError(`no backup file at ${file}`);
  refuseWhileRunning(dataDir);
  const existing = DATA.filter((name) => holdsData(join(dataDir, name)));
  if (existing.length > 0 && !options.force) {
    throw new RestoreError(
      `${dataDir} already holds Parley data (${existing.join(', ')}), which a restore replaces: ` +
        'run it again with --force to move that data aside first; nothing was changed',
    );
  }
  mkdirSync(dirname(dataDir), { recursive: true });
  removeStaleStaging(dirname(dataDir), `.${basename(dataDir)}.restore-`);
  const staging = mkdtempSync(join(dirname(dataDir), `.${basename(dataDir)}.restore-${process.pid}-`));
  try {
    const manifest = await unpackAndCheck(file, staging, say);
    if (manifest.database !== 'pglite') {
      throw new RestoreError(
        `${file} is a backup of a PostgreSQL database: restore its postgres.dump with pg_restore ` +
          '(README, "Backups"); nothing was changed',
      );
    }
    const unknown = manifest.migrations.filter((name) => !KNOWN_MIGRATIONS().has(name));
    if (unknown.length > 0) {
      throw new RestoreError(
        `${file} was made by a newer Parley (${manifest.parleyVersion}) whose database has migrations this one lacks ` +
          `(${unknown.join(', ')}): restore it with that version; nothing was changed`,
      );
    }
    await openAndCount(staging, manifest, file, say);

    const release = lockDirectory(dataDir); // a server that started meanwhile makes this refuse
    let replacedTo: string | undefined;
    try {
      const aside = existing.filter((name) => name !== 'master.key' || manifest.masterKeys.included);
      if (aside.length > 0) {
        replacedTo = `${dataDir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        mkdirSync(replacedTo);
        for (const name of aside) renameSync(join(dataDir, name), join(replacedTo, name));
      }
      for (const name of DATA) {
        if (existsSync(join(staging, name))) renameSync(join(staging, name), join(dataDir, name));
      }
    } finally {
      release();
    }
    return { manifest, replacedTo, missingKeys: missingKeys(manifest, options) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Restore replaces the files under a running server: it is refused, never sent to the server. */
export function refuseWhileRunning(dataDir: string): void {
  const holder = liveHolder(dataDir);
  if (holder !== undefined) {
    throw new RestoreError(
      `Parley (process ${holder}) is running on ${dataDir}: stop it before restoring a backup; nothing was changed`,
    );
  }
}

const KNOWN_MIGRATIONS = (() => {
  let names: Set<string> | undefined;
  return () => (names ??= new Set(loadMigrations().map((m) => m.name)));
})();

function holdsData(path: string): boolean {
  if (!existsSync(path)) return false;
  return !statSync(path).isDirectory() || readdirSync(path).length > 0;
}

const ALLOWED = /^(parley-backup\.json|pglite\.tar|postgres\.dump|master\.key|(archive|attachments)(\/.*)?)$/;

/** Unpacks `file` into `staging` and checks it against its manifest, or says why it is no backup. */
async function unpackAndCheck(
  file: string,
  staging: string,
  say: (line: string) => void,
): Promise<BackupManifest> {
  const refused = (why: string) =>
    new RestoreError(`${file} is not a whole Parley backup: ${why}; nothing was changed`);
  const foreign: string[] = [];
  say(`unpacking ${file} (${megabytes(statSync(file).size)})`);
  try {
    await extractTar({
      file,
      cwd: staging,
      strict: true,
      preserveOwner: false,
      filter: (path, entry) => {
        const name = path.replace(/^\.\//, '').replace(/\/$/, '');
        const type = 'type' in entry ? entry.type : entry.isDirectory() ? 'Directory' : 'File';
        const ok = ALLOWED.test(name) && (type === 'File' || type === 'Directory');
        if (!ok) foreign.push(path);
        return ok;
      },
    });
  } catch (error) {
    throw refused(`it cannot be read to its end (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!existsSync(join(staging, MANIFEST))) throw refused(`it has no ${MANIFEST}`);
  if (foreign.length > 0)
    throw refused(`it holds entries no Parley backup has (${foreign.slice(0, 3).join(', ')})`);
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(readFileSync(join(staging, MANIFEST), 'utf8'));
  } catch (error) {
    throw refused((error as Error).message);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  const present = ['pglite.tar', 'postgres.dump', 'master.key']
    .filter((p) => existsSync(join(staging, p)))
    .concat(walk(staging, 'archive'), walk(staging, 'attachments'));
  const extra = present.filter((p) => !listed.has(p));
  if (extra.length > 0)
    throw refused(`it holds files its manifest does not list (${extra.slice(0, 3).join(', ')})`);
  const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
  let checked = 0;
  let reported = -1;
  for (const expected of manifest.files) {
    if (!existsSync(join(staging, expected.path))) throw refused(`${expected.path} is missing`);
    const actual = await describeFile(staging, expected.path);
    if (actual.size !== expected.size || actual.sha256 !== expected.sha256) {
      throw refused(`${expected.path} fails its checksum (changed or damaged)`);
    }
    checked += actual.size;
    const tenth = total === 0 ? 10 : Math.floor((checked / total) * 10);
    if (tenth !== reported) {
      reported = tenth;
      say(`  checking: ${tenth * 10}% of ${megabytes(total)}`);
    }
  }
  return manifest;
}

/**
 * Opens the backup's database where it will live (recovering it as after a power cut), checks that
 * it holds what the manifest counted, and gives it a new sync epoch: devices' cursors point into
 * the log the backup was taken from, so each device resynchronises instead of trusting them.
 */
async function openAndCount(
  staging: string,
  manifest: BackupManifest,
  file: string,
  say: (line: string) => void,
): Promise<void> {
  say('opening the backup’s database');
  const dump = join(staging, 'pglite.tar');
  mkdirSync(join(staging, 'pglite'));
  let db: PGlite;
  try {
    db = await PGlite.create(join(staging, 'pglite'), { loadDataDir: new Blob([readFileSync(dump)]) });
  } catch (error) {
    throw new RestoreError(
      `the database in ${file} does not open (${error instanceof Error ? error.message : String(error)}); nothing was changed`,
    );
  }
  try {
    const sql = pgliteDriver(db);
    const counts = await countDatabase(sql);
    const { migrations } = await describeDatabase(sql);
    if (
      JSON.stringify(counts) !== JSON.stringify(manifest.counts) ||
      migrations.join() !== manifest.migrations.join()
    ) {
      throw new RestoreError(
        `the database in ${file} does not hold what its manifest says (${JSON.stringify(counts)}); nothing was changed`,
      );
    }
    await sql.query('UPDATE sync_epoch SET epoch = $1', [randomBytes(6).toString('hex')]);
  } finally {
    await db.close();
  }
  rmSync(dump);
}

/** Master keys the restored data needs that Parley will not find when it starts. */
function missingKeys(manifest: BackupManifest, options: RestoreOptions): string[] {
  const fromEnv = options.env.PARLEY_MASTER_KEY?.trim();
  const path = masterKeyPath(options.dataDir);
  let known: string[] = [];
  if (fromEnv) known = keyFileFingerprints(fromEnv);
  else if (existsSync(path)) known = keyFileFingerprints(readFileSync(path, 'utf8'));
  return manifest.masterKeys.needed.filter((id) => !known.includes(id));
}
