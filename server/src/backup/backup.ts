import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { create as createTar } from 'tar';
import { keyFingerprint } from '../crypto/aead';
import { masterKeyPath } from '../crypto/master-key';
import type { Database } from '../db/database';
import { isAlive } from '../db/dir-lock';
import { pgliteDriver, type SqlQueryable } from '../db/driver';
import { archiveManifestText, listSegments, type SegmentRow } from '../store/archive';
import { VERSION } from '../version';
import {
  BACKUP_FORMAT,
  countDatabase,
  describeDatabase,
  MANIFEST,
  type BackupCounts,
  type BackupFile,
  type BackupManifest,
} from './manifest';

export interface BackupOptions {
  readonly dataDir: string;
  /** Where the `.tar.gz` goes (absolute); written as `<target>.partial` and renamed when whole. */
  readonly target: string;
  /** Leave `master.key` out (then keep the key apart: the backup cannot be read without it). */
  readonly withoutKeys: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Progress and warnings, as lines. */
  readonly say: (line: string) => void;
}

export interface BackupResult {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly manifest: BackupManifest;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

const ARCHIVE_FILE = /^events-\d{4}-\d{2}-\d{2}\.ndjson\.gz$/;

/**
 * Backs up the embedded database and what DATA_DIR holds beside it, while Parley runs
 * (docs/decisions/0037): PGlite's files are copied at one instant when no statement runs, and at
 * that same instant the archive folder, the attachment files and the master key file are linked
 * into a staging folder, so the copy and the files agree. Everything is then counted in the copy
 * itself and packed into one `.tar.gz` with a manifest of sizes and SHA-256s.
 */
export async function backupEmbedded(db: Database, options: BackupOptions): Promise<BackupResult> {
  if (!db.snapshot) throw new BackupError('this database cannot be copied from inside Parley');
  const staging = stagingDir(options.dataDir);
  try {
    options.say('copying the database at one instant (writes wait a moment)');
    const { pgdata, also: keyText, heldMs } = await db.snapshot(() => linkBesideFiles(options, staging));
    const bytes = Buffer.from(await pgdata.arrayBuffer());
    writeFileSync(join(staging, 'pglite.tar'), bytes);
    options.say(
      `database copied (${megabytes(bytes.length)}; writes waited ${heldMs} ms); counting what it holds`,
    );
    const copy = await PGlite.create({ loadDataDir: pgdata });
    try {
      return await packBackup(pgliteDriver(copy), 'pglite', 'pglite.tar', staging, keyText, options);
    } finally {
      await copy.close();
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Links (copies where linking fails) the archive folder's day files and the attachment files into
 * `staging`, and reads the master key file: cheap enough to run at the database's copy instant.
 */
export function linkBesideFiles(options: BackupOptions, staging: string): string | undefined {
  linkTree(join(options.dataDir, 'archive'), join(staging, 'archive'), (name) => ARCHIVE_FILE.test(name));
  linkTree(join(options.dataDir, 'attachments'), join(staging, 'attachments'), () => true);
  const path = masterKeyPath(options.dataDir);
  if (options.env.PARLEY_MASTER_KEY?.trim() || !existsSync(path)) return undefined;
  return readFileSync(path, 'utf8');
}

/** A fresh folder in DATA_DIR (so files link into it), removed when the backup ends. */
export function stagingDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  removeStaleStaging(dataDir, '.backup-');
  return mkdtempSync(join(dataDir, `.backup-${process.pid}-`));
}

/** Removes `<prefix><pid>-*` folders in `dir` that a process killed mid-backup or mid-restore left. */
export function removeStaleStaging(dir: string, prefix: string): void {
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function linkTree(from: string, to: string, keep: (name: string) => boolean): void {
  if (!existsSync(from)) return;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue; // uploads still arriving, temporary files
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      linkTree(source, target, keep);
    } else if (entry.isFile() && keep(entry.name)) {
      mkdirSync(to, { recursive: true });
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/** Keeps in `staging` exactly the files the copy names, checked, then writes the `.tar.gz`. */
export async function packBackup(
  sql: SqlQueryable,
  database: BackupManifest['database'],
  dumpName: string,
  staging: string,
  keyText: string | undefined,
  options: BackupOptions,
): Promise<BackupResult> {
  const counts: BackupCounts = await countDatabase(sql);
  const { migrations, neededKeys } = await describeDatabase(sql);
  const files: BackupFile[] = [await describeFile(staging, dumpName)];
  files.push(...keepArchiveFiles(staging, await listSegments({ sql })));
  files.push(...(await keepAttachmentFiles(sql, staging, options.say)));

  let included = false;
  if (options.env.PARLEY_MASTER_KEY?.trim()) {
    options.say(
      `WARNING: the master key comes from PARLEY_MASTER_KEY and is NOT in this backup; keep that key ` +
        `(fingerprint ${neededKeys.join(', ') || 'none yet'}) apart from the backup: without it the backup cannot be read`,
    );
  } else if (options.withoutKeys || keyText === undefined) {
    options.say(
      `WARNING: master.key is NOT in this backup${keyText === undefined ? ' (DATA_DIR has none)' : ''}; ` +
        `keep DATA_DIR/master.key (fingerprint ${neededKeys.join(', ') || 'none yet'}) apart from it: without it the backup cannot be read`,
    );
  } else {
    writeFileSync(join(staging, 'master.key'), keyText, { mode: 0o600 });
    files.push(await describeFile(staging, 'master.key'));
    included = true;
    options.say(
      'WARNING: this backup holds the master key: whoever has the file can read every conversation. ' +
        'Store it encrypted and as carefully as the server itself (or use --without-keys and keep the key apart)',
    );
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    parleyVersion: VERSION,
    createdAt: new Date().toISOString(),
    database,
    migrations,
    counts,
    masterKeys: { needed: neededKeys, included },
    files,
  };
  writeFileSync(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  const { size, sha256 } = await writeArchive(staging, manifest, options);
  return { path: options.target, size, sha256, manifest };
}

function keepArchiveFiles(staging: string, segments: readonly SegmentRow[]): BackupFile[] {
  const dir = join(staging, 'archive');
  const wanted = new Map(segments.map((s) => [s.file, s]));
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (!wanted.has(name)) rmSync(join(dir, name)); // archived after the copy, or restored before it
  }
  const files: BackupFile[] = [];
  for (const segment of segments) {
    const path = join(dir, segment.file);
    if (!existsSync(path)) {
      throw new BackupError(
        `archived day ${segment.day} has no file DATA_DIR/archive/${segment.file}: the archive folder is incomplete, so no backup of it can be whole`,
      );
    }
    const bytes = readFileSync(path);
    if (sha256Of(bytes) !== segment.sha256) {
      throw new BackupError(`DATA_DIR/archive/${segment.file} fails its checksum: it was changed or damaged`);
    }
    files.push({ path: `archive/${segment.file}`, size: bytes.length, sha256: segment.sha256 });
  }
  if (segments.length > 0) {
    writeFileSync(join(dir, 'manifest.json'), archiveManifestText(segments));
    files.push(describeFileSync(staging, 'archive/manifest.json'));
  }
  return files;
}

/** The copy's attachment rows' files, each checked against its name (a SHA-256). */
async function keepAttachmentFiles(
  sql: SqlQueryable,
  staging: string,
  say: (line: string) => void,
): Promise<BackupFile[]> {
  const rows = await sql.query<{ tenant_id: string; sha256: string }>(
    'SELECT tenant_id, sha256 FROM attachments ORDER BY tenant_id, sha256',
  );
  const wanted = new Set(rows.map((r) => `attachments/${r.tenant_id}/${r.sha256.slice(0, 2)}/${r.sha256}`));
  for (const path of walk(staging, 'attachments')) if (!wanted.has(path)) rmSync(join(staging, path));
  const files: BackupFile[] = [];
  let missing = 0;
  for (const path of wanted) {
    if (!existsSync(join(staging, path))) {
      missing++;
      continue;
    }
    const file = await describeFile(staging, path);
    if (file.sha256 !== basename(path)) {
      say(`WARNING: ${path} does not hold the bytes its name says (damaged on disk); left out`);
      rmSync(join(staging, path));
      continue;
    }
    files.push(file);
  }
  if (missing > 0) {
    say(
      `WARNING: ${missing} attachment file(s) are not under DATA_DIR/attachments (stored in S3, or lost): ` +
        'back up the bucket apart',
    );
  }
  return files;
}

async function writeArchive(
  staging: string,
  manifest: BackupManifest,
  options: BackupOptions,
): Promise<{ size: number; sha256: string }> {
  const entries = [
    MANIFEST,
    ...[manifest.files[0]!.path, 'archive', 'attachments', 'master.key'].filter((p) =>
      existsSync(join(staging, p)),
    ),
  ];
  const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
  let added = 0;
  let reported = -1;
  const pack = createTar(
    {
      gzip: true,
      cwd: staging,
      portable: true,
      onWriteEntry: (entry) => {
        added += entry.stat?.isFile() ? entry.stat.size : 0;
        const tenth = total === 0 ? 10 : Math.floor((added / total) * 10);
        if (tenth !== reported) {
          reported = tenth;
          options.say(`  packing: ${Math.min(tenth * 10, 100)}% of ${megabytes(total)}`);
        }
      },
    },
    entries,
  );
  const hash = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  mkdirSync(dirname(options.target), { recursive: true });
  const partial = `${options.target}.partial`;
  try {
    await pipeline(
      pack as unknown as NodeJS.ReadableStream,
      count,
      createWriteStream(partial, { mode: 0o600 }),
    );
    const fd = openSync(partial, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, options.target);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  const sha256 = hash.digest('hex');
  writeFileSync(`${options.target}.sha256`, `${sha256}  ${basename(options.target)}\n`);
  return { size, sha256 };
}

/** Every file under `root/under`, as paths relative to `root` with `/`. */
export function walk(root: string, under: string): string[] {
  const dir = join(root, under);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

export async function describeFile(root: string, path: string): Promise<BackupFile> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(join(root, path))) hash.update(chunk as Buffer);
  return { path, size: statSync(join(root, path)).size, sha256: hash.digest('hex') };
}

function describeFileSync(root: string, path: string): BackupFile {
  const bytes = readFileSync(join(root, path));
  return { path, size: bytes.length, sha256: sha256Of(bytes) };
}

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** The master key fingerprints in a key file's text. */
export function keyFileFingerprints(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((part) => keyFingerprint(Buffer.from(part, 'base64')));
}
