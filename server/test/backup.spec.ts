import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { create as createTar, extract as extractTar, list as listTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDatabase, parseManifest } from '../src/backup/manifest';
import { createTenant } from '../src/auth/accounts';
import { SESSION_COOKIE } from '../src/auth/cookies';
import { openDatabase } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { addDays, utcDay } from '../src/db/partitions';
import { SqlEventStore } from '../src/store/sql-store';
import { createPostgresDatabase, httpClient, type HttpClient } from './api.support';
import { POSTGRES_URL } from './support/databases';
import { cli, startServer } from './support/cli';

interface EventRow {
  tenant_id: string;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
}

/** Every event row of the embedded database in `dataDir`, and its counts (opened with no server). */
async function readDataDir(dataDir: string) {
  const db = await openDatabase({ dataDir });
  try {
    const events = await db.sql.query<EventRow>(
      'SELECT tenant_id, stream_id, version, event_id::text, type, data FROM events ORDER BY tenant_id, stream_id, version',
    );
    const streams = await db.sql.query<{ tenant_id: string; stream_id: string; version: number }>(
      'SELECT tenant_id, stream_id, version FROM streams',
    );
    const [{ epoch } = { epoch: '' }] = await db.sql.query<{ epoch: string }>('SELECT epoch FROM sync_epoch');
    return { events, streams, epoch, counts: await countDatabase(db.sql) };
  } finally {
    await db.close();
  }
}

const PDF_BEFORE = Buffer.from('%PDF-1.4\n1 0 obj << /Title (before the backup) >> endobj\n%%EOF\n');
const PDF_AFTER = Buffer.from('%PDF-1.4\n1 0 obj << /Title (after the backup) >> endobj\n%%EOF\n');
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Stores `bytes` as an attachment of the signed-in client's tenant, or fetches it back. */
function attachment(url: string, client: HttpClient, bytes: Buffer, method: 'PUT' | 'GET') {
  return fetch(`${url}/api/attachments/${sha(bytes)}`, {
    method,
    headers: { cookie: `${SESSION_COOKIE}=${encodeURIComponent(client.cookie()!)}` },
    body: method === 'PUT' ? bytes : undefined,
  });
}

async function signInAda(url: string) {
  const client = httpClient(`${url}/trpc`);
  await client.trpc.auth.signIn.mutate({
    tenantId: 'demo',
    email: 'ada@demo.parley.test',
    password: 'parley-demo-admin',
  });
  return client;
}

describe('backup and restore of the embedded database (docs/decisions/0037)', () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-backup-'));
  const live = join(root, 'live');
  const file = join(root, 'out', 'parley.tar.gz');
  const old = addDays(utcDay(Date.now()), -3);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;

  beforeAll(async () => {
    // An event three days old, archived while the server runs, so the archive folder is backed up.
    const db = await openDatabase({ dataDir: live });
    await migrate(db.sql);
    const store = await SqlEventStore.open({
      db,
      archiveDir: join(live, 'archive'),
      clock: () => Date.parse(`${old}T10:00:00Z`),
    });
    await store.append(
      tenantId('demo'),
      streamId('conversation-old-day'),
      [{ type: 'Old', data: { n: 1 } }],
      {
        expectedVersion: 0,
      },
    );
    await store.close();
    await db.close();
    // What a backup killed midway left behind (its process is gone): the next backup clears it.
    mkdirSync(join(live, '.backup-999999999-stale'));
    server = await startServer(live);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('[BK1] a backup taken while Parley writes holds what was written before it, with size, checksum and manifest', async () => {
    const archived = await cli(live, ['archive', '--before', addDays(old, 1)]);
    expect(archived.code).toBe(0);
    const ada = await signInAda(server!.url);
    expect((await attachment(server!.url, ada, PDF_BEFORE, 'PUT')).ok).toBe(true);
    for (const n of [1, 2, 3]) {
      await ada.trpc.contacts.addNote.mutate({
        conversationId: 'demo-1',
        noteId: `before-${n}`,
        text: `before ${n}`,
      });
    }
    // Writes keep coming while the backup runs; none of them may tear the copy.
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        await ada.trpc.contacts.addNote.mutate({
          conversationId: 'demo-2',
          noteId: `during-${n}`,
          text: `during ${n}`,
        });
      }
    })();
    const backup = await cli(live, ['backup', file]);
    writing = false;
    await writer;
    for (const n of [1, 2]) {
      await ada.trpc.contacts.addNote.mutate({
        conversationId: 'demo-1',
        noteId: `after-${n}`,
        text: `after ${n}`,
      });
    }
    expect((await attachment(server!.url, ada, PDF_AFTER, 'PUT')).ok).toBe(true);

    expect(backup.code, backup.stderr).toBe(0);
    const sha256 = /sha256:\s+([0-9a-f]{64})/.exec(backup.stdout)?.[1];
    const bytes = readFileSync(file);
    expect(sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(backup.stdout).toContain(`(${bytes.length} bytes)`);
    expect(readFileSync(`${file}.sha256`, 'utf8')).toBe(`${sha256}  parley.tar.gz\n`);
    expect(backup.stdout).toMatch(/1 in 1 archived day\(s\), 1 attachment\(s\)/);
    expect(backup.stdout).toContain('master key included');
    expect(backup.stdout).toContain('packing: 100%'); // progress, carried back over the admin socket
    expect(backup.stdout).toMatch(/database copied \(.* MB; writes waited \d+ ms\)/);
    expect(backup.stdout).toContain('WARNING: this backup holds the master key');
    expect(readdirSync(dirname(file)).sort()).toEqual(['parley.tar.gz', 'parley.tar.gz.sha256']);
    expect(readdirSync(live).filter((name) => name.startsWith('.backup-'))).toEqual([]);
  }, 120_000);

  it('[BK2] restore refuses while a server holds DATA_DIR, even with --force, and changes nothing', async () => {
    const refused = await cli(live, ['restore', file, '--force']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /Parley \(process \d+\) is running on .*: stop it before restoring a backup; nothing was changed/,
    );
    const ada = await signInAda(server!.url);
    const notes = await ada.trpc.contacts.profile.query({ conversationId: 'demo-1' });
    expect(notes.notes.map((note) => note.noteId)).toContain('after-2');
  }, 60_000);

  it('[BK3] a restore into a new DATA_DIR holds exactly the backup, and Parley started on it serves it', async () => {
    await server!.stop();
    server = undefined;
    const original = await readDataDir(live);
    const target = join(root, 'restored');
    const restored = await cli(target, ['restore', file]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('devices will resynchronise');
    expect(restored.stdout).not.toContain('WARNING');

    const copy = await readDataDir(target);
    // Every event in the copy is the original's, unchanged; each stream a whole prefix of its log.
    const byId = new Map(original.events.map((e) => [e.event_id, e]));
    for (const event of copy.events) expect(byId.get(event.event_id)).toEqual(event);
    for (const stream of copy.streams) {
      const versions = copy.events
        .filter((e) => e.tenant_id === stream.tenant_id && e.stream_id === stream.stream_id)
        .map((e) => e.version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
    expect(copy.events.length).toBeLessThan(original.events.length); // the notes after the backup
    expect(copy.counts).toMatchObject({ archivedDays: 1, archivedEvents: 1 });
    expect(existsSync(join(target, 'archive', `events-${old}.ndjson.gz`))).toBe(true);
    expect(copy.epoch).not.toBe(original.epoch); // devices' cursors into the old log are answered with a resync

    const started = await startServer(target);
    try {
      const ada = await signInAda(started.url);
      const { notes } = await ada.trpc.contacts.profile.query({ conversationId: 'demo-1' });
      const texts = notes.map((note) => note.text);
      // Sealed text reads back: the master key came with the backup.
      expect(texts).toEqual(expect.arrayContaining(['before 1', 'before 2', 'before 3']));
      expect(texts.filter((text) => text.startsWith('after'))).toEqual([]);
      const file = await attachment(started.url, ada, PDF_BEFORE, 'GET');
      expect(file.status).toBe(200);
      expect(Buffer.from(await file.arrayBuffer())).toEqual(PDF_BEFORE);
      expect((await attachment(started.url, ada, PDF_AFTER, 'GET')).status).toBe(404);
      const status = await cli(target, ['status']);
      expect(status.stdout).toContain(`archived:   ${old} (1 events)`);
    } finally {
      await started.stop();
    }
  }, 180_000);

  it('[BK4] a truncated, damaged or foreign archive is refused with a clear error, and nothing is created', async () => {
    const bytes = readFileSync(file);
    const truncated = join(root, 'truncated.tar.gz');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const damaged = join(root, 'damaged.tar.gz');
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 3)]! ^= 0xff;
    writeFileSync(damaged, flipped);
    const foreign = join(root, 'foreign.tar.gz');
    mkdirSync(join(root, 'foreign'));
    writeFileSync(join(root, 'foreign', 'notes.txt'), 'not parley');
    await createTar({ gzip: true, file: foreign, cwd: join(root, 'foreign') }, ['notes.txt']);

    // A whole archive whose key file was edited after the backup: its manifest's checksum catches it.
    const tampered = join(root, 'tampered.tar.gz');
    const unpacked = join(root, 'unpacked');
    mkdirSync(unpacked);
    await extractTar({ file, cwd: unpacked });
    writeFileSync(join(unpacked, 'master.key'), `${readFileSync(join(unpacked, 'master.key'), 'utf8')}\n`);
    await createTar({ gzip: true, file: tampered, cwd: unpacked }, readdirSync(unpacked));

    for (const bad of [truncated, damaged, foreign, tampered]) {
      const target = join(root, `never-${bad.length}`);
      const run = await cli(target, ['restore', bad]);
      expect(run.code, bad).toBe(1);
      expect(run.stderr).toMatch(/is not a whole Parley backup: .*; nothing was changed/);
      if (bad === tampered) expect(run.stderr).toContain('master.key fails its checksum');
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(root).filter((name) => name.includes('.restore-'))).toEqual([]);
    }
  }, 120_000);

  it('[BK5] restore over existing data needs --force, which moves that data aside', async () => {
    const target = join(root, 'restored');
    const before = readdirSync(root);
    const refused = await cli(target, ['restore', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /already holds Parley data \(pglite, archive, attachments, master\.key\).*--force.*nothing was changed/,
    );
    expect(readdirSync(root)).toEqual(before);

    const forced = await cli(target, ['restore', file, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const aside = readdirSync(root).find((name) => name.startsWith('restored.replaced-'));
    expect(aside).toBeDefined();
    expect(readdirSync(join(root, aside!)).sort()).toEqual([
      'archive',
      'attachments',
      'master.key',
      'pglite',
    ]);
    expect((await readDataDir(target)).counts.archivedDays).toBe(1);
  }, 120_000);
});

describe.skipIf(!POSTGRES_URL)('backup on PostgreSQL (docs/decisions/0037)', () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-pg-backup-'));
  const file = join(root, 'pg.tar.gz');
  let source: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;

  beforeAll(async () => {
    source = await createPostgresDatabase();
    target = await createPostgresDatabase();
    const db = await openDatabase({ databaseUrl: source.url });
    await migrate(db.sql);
    await createTenant(db.sql, tenantId('pg-backup'), 'PG Backup');
    await db.close();
  }, 60_000);

  afterAll(async () => {
    await source?.drop();
    await target?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('[BK6] with pg_dump on PATH, backup packs its dump, which pg_restore loads into an empty database', async () => {
    const run = await cli(join(root, 'data'), ['backup', file], { env: { DATABASE_URL: source.url } });
    expect(run.code, run.stderr).toBe(0);
    const entries: string[] = [];
    await listTar({ file, onReadEntry: (entry) => entries.push(entry.path) });
    expect(entries).toEqual(['parley-backup.json', 'postgres.dump']);
    const unpacked = join(root, 'unpacked');
    mkdirSync(unpacked);
    await extractTar({ file, cwd: unpacked });
    const manifest = parseManifest(readFileSync(join(unpacked, 'parley-backup.json'), 'utf8'));
    expect(manifest.database).toBe('postgres');

    const restored = spawnSync(
      'pg_restore',
      ['--no-owner', '--exit-on-error', `--dbname=${target.url}`, join(unpacked, 'postgres.dump')],
      { encoding: 'utf8' },
    );
    expect(restored.status, restored.stderr).toBe(0);
    const db = await openDatabase({ databaseUrl: target.url });
    try {
      expect(await countDatabase(db.sql)).toEqual(manifest.counts);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('[BK7] without pg_dump, backup writes nothing and says what to run; restore on PostgreSQL says how', async () => {
    const missing = join(root, 'missing.tar.gz');
    const run = await cli(join(root, 'data'), ['backup', missing], {
      env: { DATABASE_URL: source.url, PATH: '/nonexistent' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pg_dump --format=custom --no-owner --file=parley.dump');
    expect(existsSync(missing)).toBe(false);
    const restore = await cli(join(root, 'data'), ['restore', file], { env: { DATABASE_URL: source.url } });
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('pg_restore --no-owner --exit-on-error');
  }, 60_000);
});
