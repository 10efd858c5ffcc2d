import { existsSync, mkdtempSync, readFileSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  loadMigrations,
  migrate,
  migrationState,
  MigrationChecksumError,
  MIGRATIONS_DIR,
} from '../src/db/migrator';
import { addDays, listPartitions, utcDay } from '../src/db/partitions';
import { archiveBefore, ArchiveError, restoreDay, type ArchiveProgress } from '../src/store/archive';
import { START } from '../src/store/checkpoint';
import { SqlEventStore } from '../src/store/sql-store';
import type { TransactionalAppend } from '../src/store/types';
import type { SqlQueryable } from '../src/db/driver';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from './support/databases';
import { eventStoreContract, type StoreHarness } from './store.contract';

const backends: [string, () => Promise<TestDatabase>, boolean][] = [
  ['PGlite', freshPglite, true],
  ['PostgreSQL (DATABASE_URL)', freshPostgres, POSTGRES_URL !== undefined],
];

async function harnessOn(
  create: () => Promise<TestDatabase>,
): Promise<StoreHarness & { test: TestDatabase; sqlStore: SqlEventStore }> {
  const test = await create();
  let now = Date.now();
  const clock = () => now;
  const archiveDir = join(test.dataDir, 'archive');
  const sqlStore = await SqlEventStore.open({ db: test.db, archiveDir, clock, pollIntervalMs: 200 });
  const extra: SqlEventStore[] = [];
  return {
    test,
    sqlStore,
    store: sqlStore,
    setClock: (ms) => {
      now = ms;
    },
    secondStore:
      test.kind === 'postgres'
        ? async () => {
            const other = await SqlEventStore.open({
              db: await test.open(),
              archiveDir,
              clock,
              pollIntervalMs: 200,
            });
            extra.push(other);
            return other;
          }
        : undefined,
    async dispose() {
      for (const other of extra) await other.close();
      await sqlStore.close();
      await test.dispose();
    },
  };
}

for (const [name, create, enabled] of backends) {
  // The PostgreSQL run needs a server: `npm test` in CI sets DATABASE_URL (see .ci/run).
  describe.runIf(enabled)(name, () => {
    eventStoreContract(name, () => harnessOn(create));

    describe('SQL event store', () => {
      let h: Awaited<ReturnType<typeof harnessOn>>;
      beforeEach(async () => {
        h = await harnessOn(create);
      });
      afterEach(async () => {
        await h.dispose();
      });
      const acme = tenantId('acme');

      it('keeps day partitions ready from today to at least 7 days ahead', async () => {
        const days = await listPartitions(h.test.db.sql);
        const today = utcDay(Date.now());
        for (let i = 0; i <= 7; i++) expect(days).toContain(addDays(today, i));
      });

      it('a woken subscriber waits for more commits, then reads them all at once', async () => {
        // A store of its own with a long gathering wait, so the five commits surely fall inside it.
        const store = await SqlEventStore.open({
          db: h.test.db,
          archiveDir: join(h.test.dataDir, 'archive'),
          gatherMs: 500,
        });
        const controller = new AbortController();
        const received: number[] = [];
        const reads = vi.spyOn(store as unknown as { readLog: () => unknown }, 'readLog');
        const following = (async () => {
          for await (const e of store.subscribe({
            tenantId: acme,
            after: START,
            signal: controller.signal,
          })) {
            received.push(e.data.n as number);
          }
        })();
        await vi.waitFor(() => expect(reads).toHaveBeenCalledOnce());
        await reads.mock.results[0]!.value; // the first page, read before any commit: empty
        // Five commits one after the other, each its own transaction and its own wake-up: without
        // the wait, the first wake-up would read at once and the later commits take more reads.
        for (const n of [1, 2, 3, 4, 5]) {
          await store.append(acme, streamId(`run-${n}`), [{ type: 'A', data: { n } }], {
            expectedVersion: 0,
          });
        }
        await vi.waitFor(() => expect(received).toEqual([1, 2, 3, 4, 5]));
        expect(reads).toHaveBeenCalledTimes(2);
        controller.abort();
        await following;
        await store.close();
      });

      it('puts events on both sides of midnight UTC into their own day partitions', async () => {
        const midnight = Date.parse('2027-03-01T00:00:00.000Z');
        h.setClock(midnight - 1);
        await h.store.append(acme, streamId('night-2'), [{ type: 'A', data: {} }], { expectedVersion: 0 });
        h.setClock(midnight);
        await h.store.append(acme, streamId('night-2'), [{ type: 'B', data: {} }], { expectedVersion: 1 });
        const rows = await h.test.db.sql.query<{ part: string; version: number }>(
          "SELECT tableoid::regclass::text AS part, version FROM events WHERE stream_id = 'night-2' ORDER BY version",
        );
        expect(rows).toEqual([
          { part: 'events_p20270228', version: 1 },
          { part: 'events_p20270301', version: 2 },
        ]);
      });

      it('creates a missing day partition instead of failing the append', async () => {
        const farFuture = Date.parse('2031-06-15T12:00:00Z');
        h.setClock(farFuture);
        await h.store.append(acme, streamId('future-1'), [{ type: 'A', data: {} }], { expectedVersion: 0 });
        expect(await listPartitions(h.test.db.sql)).toContain('2031-06-15');
      });

      it('commits withinTransaction writes with the events, or neither, without failing neighbours', async () => {
        await h.test.db.sql.exec('CREATE TABLE outbox_probe (stream_id text, version int)');
        const write = (fail: boolean) => async (tx: SqlQueryable, appended: TransactionalAppend) => {
          await tx.query('INSERT INTO outbox_probe VALUES ($1, $2)', [
            appended.streamId,
            appended.events[0]!.version,
          ]);
          if (fail) throw new Error('the outbox is full');
        };
        const results = await Promise.allSettled([
          h.store.append(acme, streamId('tx-ok'), [{ type: 'A', data: {} }], {
            expectedVersion: 0,
            withinTransaction: write(false),
          }),
          h.store.append(acme, streamId('tx-bad'), [{ type: 'A', data: {} }], {
            expectedVersion: 0,
            withinTransaction: write(true),
          }),
          h.store.append(acme, streamId('tx-plain'), [{ type: 'A', data: {} }], { expectedVersion: 0 }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((results[1] as PromiseRejectedResult).reason).toHaveProperty('message', 'the outbox is full');
        expect(await h.store.streamVersion(acme, streamId('tx-bad'))).toBe(0);
        expect(await h.test.db.sql.query('SELECT stream_id, version FROM outbox_probe')).toEqual([
          { stream_id: 'tx-ok', version: 1 },
        ]);
      });

      it('an atomic append commits its withinTransaction writes with every stream, or nothing at all', async () => {
        await h.test.db.sql.exec('CREATE TABLE atomic_probe (stream_id text, version int)');
        const appends = (suffix: string) =>
          ['one', 'two'].map((name) => ({
            tenantId: acme,
            streamId: streamId(`joint-${name}-${suffix}`),
            events: [{ type: 'A', data: {} }],
            expectedVersion: 0 as const,
          }));
        const probe =
          (fail: boolean) => async (tx: SqlQueryable, appended: readonly TransactionalAppend[]) => {
            for (const append of appended)
              await tx.query('INSERT INTO atomic_probe VALUES ($1, $2)', [
                append.streamId,
                append.events[0]!.version,
              ]);
            if (fail) throw new Error('the sequence moved');
          };
        await expect(
          h.store.appendAtomically(appends('bad'), { withinTransaction: probe(true) }),
        ).rejects.toThrow('the sequence moved');
        const results = await h.store.appendAtomically(appends('ok'), { withinTransaction: probe(false) });
        expect(await h.store.streamVersion(acme, streamId('joint-one-bad'))).toBe(0);
        expect(await h.store.streamVersion(acme, streamId('joint-two-bad'))).toBe(0);
        expect(
          await h.test.db.sql.query('SELECT stream_id, version FROM atomic_probe ORDER BY stream_id'),
        ).toEqual([
          { stream_id: 'joint-one-ok', version: 1 },
          { stream_id: 'joint-two-ok', version: 1 },
        ]);
        // One transaction: both streams' events carry the same transaction id in their checkpoints.
        const txOf = (checkpoint: string) => checkpoint.split(':')[0];
        expect(txOf(results[0]!.checkpoint)).toBe(txOf(results[1]!.checkpoint));
        // The hot tier learned both, so reading them back needs no query.
        const before = h.sqlStore.hot.hits;
        await h.store.readStream(acme, streamId('joint-two-ok'));
        expect(h.sqlStore.hot.hits).toBe(before + 1);
      });

      it('serves recent reads from the hot tier without the database', async () => {
        const s = streamId('hot-1');
        await h.store.append(
          acme,
          s,
          Array.from({ length: 150 }, (_, n) => ({ type: 'N', data: { n } })),
          { expectedVersion: 0 },
        );
        const before = h.sqlStore.hot.hits;
        const tail = await h.store.readStream(acme, s, { fromVersion: 101 });
        expect(tail.map((e) => e.version)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
        expect(h.sqlStore.hot.hits).toBe(before + 1);
        const all = await h.store.readStream(acme, s); // older than the last 100: the database answers
        expect(all).toHaveLength(150);
        expect(h.sqlStore.hot.size.events).toBeLessThanOrEqual(100);
      });

      it('archives old days to checksummed files, still reads them, and restores a day', async () => {
        const today = utcDay(Date.now());
        const old = addDays(today, -3);
        const s = streamId('conversation-old');
        h.setClock(Date.parse(`${old}T10:00:00Z`));
        await h.store.append(
          acme,
          s,
          [
            { type: 'Old', data: { n: 1 } },
            { type: 'Old', data: { n: 2 } },
          ],
          { expectedVersion: 0 },
        );
        await h.store.append(tenantId('globex'), s, [{ type: 'Theirs', data: {} }], { expectedVersion: 0 });
        h.setClock(Date.now());
        await h.store.append(acme, s, [{ type: 'New', data: { n: 3 } }], { expectedVersion: 2 });
        const before = (await h.store.readAll(acme, START, 100)).events;

        const progress: ArchiveProgress[] = [];
        const archiveDir = join(h.test.dataDir, 'archive');
        const archived = await archiveBefore(h.test.db, {
          before: today,
          dir: archiveDir,
          onProgress: (p) => progress.push(p),
        });
        expect(archived).toContain(old);
        expect(await listPartitions(h.test.db.sql)).not.toContain(old);
        expect(progress.at(-1)).toMatchObject({ done: true });
        const manifest = JSON.parse(readFileSync(join(archiveDir, 'manifest.json'), 'utf8')) as {
          segments: { day: string; row_count: number }[];
        };
        expect(manifest.segments.find((seg) => seg.day === old)).toMatchObject({ row_count: 3 });

        const fresh = await SqlEventStore.open({ db: h.test.db, archiveDir }); // a cold hot tier: the slow path
        expect((await fresh.readStream(acme, s)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
        expect((await fresh.readStream(tenantId('globex'), s)).map((e) => e.type)).toEqual(['Theirs']);
        expect((await fresh.readAll(acme, START, 100)).events.map((e) => e.eventId)).toEqual(
          before.map((e) => e.eventId),
        );

        const restored = await restoreDay(h.test.db, { day: old, dir: archiveDir });
        expect(restored).toBe(3);
        expect(await listPartitions(h.test.db.sql)).toContain(old);
        expect(existsSync(join(archiveDir, `events-${old}.ndjson.gz`))).toBe(false);
        fresh.archive.refresh();
        expect((await fresh.readStream(acme, s)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
        expect((await fresh.readAll(acme, START, 100)).events.map((e) => e.checkpoint)).toEqual(
          before.map((e) => e.checkpoint),
        );
        await fresh.close();
      });

      it('refuses to restore a damaged archive or a day that is not archived', async () => {
        const today = utcDay(Date.now());
        const old = addDays(today, -2);
        h.setClock(Date.parse(`${old}T10:00:00Z`));
        await h.store.append(acme, streamId('c-1'), [{ type: 'Old', data: {} }], { expectedVersion: 0 });
        const dir = join(h.test.dataDir, 'archive');
        await archiveBefore(h.test.db, { before: today, dir });
        await expect(restoreDay(h.test.db, { day: '2001-01-01', dir })).rejects.toThrow(/not archived/);
        const file = join(dir, `events-${old}.ndjson.gz`);
        const bytes = readFileSync(file);
        const at = bytes.length - 5;
        bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
        writeFileSync(file, bytes);
        await expect(restoreDay(h.test.db, { day: old, dir })).rejects.toBeInstanceOf(ArchiveError);
        await expect(restoreDay(h.test.db, { day: old, dir })).rejects.toThrow(/checksum/);
        await expect(archiveBefore(h.test.db, { before: 'yesterday', dir })).rejects.toThrow(/YYYY-MM-DD/);
      });

      it('re-running migrations is a no-op', async () => {
        const before = await migrationState(h.test.db.sql);
        const again = await migrate(h.test.db.sql);
        expect(again).toEqual(before);
        expect(again.pending).toEqual([]);
        const rows = await h.test.db.sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM parley_migrations',
        );
        expect(rows[0]!.n).toBe(loadMigrations().length);
      });

      it('refuses a migration edited after it was applied, naming it', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'parley-migrations-'));
        cpSync(MIGRATIONS_DIR, dir, { recursive: true });
        const [first] = loadMigrations(dir);
        writeFileSync(join(dir, first!.name, 'migration.sql'), `${first!.sql}\n-- a quiet edit\n`);
        const tampered = loadMigrations(dir);
        await expect(migrate(h.test.db.sql, tampered)).rejects.toBeInstanceOf(MigrationChecksumError);
        await expect(migrate(h.test.db.sql, tampered)).rejects.toThrow(first!.name);
      });

      it.runIf(name.startsWith('PostgreSQL'))(
        'applies each migration once when two processes start at once',
        async () => {
          const fresh = await freshPostgres();
          try {
            // freshPostgres migrated already; wipe the record and the schema to start from nothing.
            await fresh.db.sql.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
            const [a, b] = [fresh.db, await fresh.open()];
            const applied: string[] = [];
            const [x, y] = await Promise.all([
              migrate(a.sql, undefined, (n) => applied.push(n)),
              migrate(b.sql, undefined, (n) => applied.push(n)),
            ]);
            expect(x.pending).toEqual([]);
            expect(y.pending).toEqual([]);
            expect(applied.sort()).toEqual(loadMigrations().map((m) => m.name));
          } finally {
            await fresh.dispose();
          }
        },
      );
    });
  });
}
