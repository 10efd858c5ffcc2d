import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { transformSync } from 'esbuild';
import { streamId, tenantId, type StreamId } from '@parley/domain';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import type { SqlQueryable } from '../../src/db/driver';
import { START } from '../../src/store/checkpoint';
import { SqlEventStore } from '../../src/store/sql-store';
import { freshPostgres, POSTGRES_URL, type TestDatabase } from '../support/databases';

/** The pid of a process that has exited: what a crashed Parley leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('[SF] the DATA_DIR lock', () => {
  let work: string;
  let childScript: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'parley-lock-'));
    // The lock module as plain JavaScript, so each contender is a real, quickly started process.
    const source = readFileSync(join(__dirname, '../../src/db/dir-lock.ts'), 'utf8');
    writeFileSync(join(work, 'dir-lock.mjs'), transformSync(source, { loader: 'ts', format: 'esm' }).code);
    childScript = join(work, 'contender.mjs');
    writeFileSync(
      childScript,
      `import { createInterface } from 'node:readline';
       import { lockDirectory } from './dir-lock.mjs';
       const lines = createInterface({ input: process.stdin });
       let step = 0;
       lines.on('line', () => {
         if (step++ > 0) process.exit(0); // told to go away: die holding the lock, like a crash
         let outcome;
         try { lockDirectory(process.argv[2]); outcome = 'won'; } catch (e) { outcome = 'lost ' + e.message; }
         console.log(outcome);
       });
       console.log('ready');`,
    );
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function race(dataDir: string, contenders: number): Promise<{ pid: number; outcome: string }[]> {
    const children = Array.from({ length: contenders }, () =>
      spawn(process.execPath, [childScript, dataDir], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const lines = children.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    const next = async (i: number) => String((await lines[i]!.next()).value);
    for (const i of children.keys()) expect(await next(i)).toBe('ready');
    for (const child of children) child.stdin.write('go\n'); // all at once, over the stale lock
    const outcomes = await Promise.all(
      children.map(async (child, i) => ({ pid: child.pid!, outcome: await next(i) })),
    );
    await Promise.all(
      children.map(async (child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin.write('exit\n');
        await exited;
      }),
    );
    return outcomes;
  }

  it('[SF] processes racing for a stale lock: exactly one opens DATA_DIR, every time', async () => {
    const dataDir = join(work, 'data');
    for (let round = 1; round <= 8; round++) {
      // The previous round's winner died holding the lock; the first round starts from a crash too.
      if (round === 1) {
        mkdirSync(dataDir, { recursive: true });
        writeFileSync(join(dataDir, 'parley.lock'), String(await deadPid()));
      }
      const outcomes = await race(dataDir, 4);
      const winners = outcomes.filter((o) => o.outcome === 'won');
      expect(winners, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
      for (const loser of outcomes.filter((o) => o.outcome !== 'won')) {
        expect(loser.outcome).toContain(`in use by process ${winners[0]!.pid}`);
      }
      expect(readFileSync(join(dataDir, 'parley.lock'), 'utf8')).toBe(String(winners[0]!.pid));
    }
  });
});

const scratch = describe.runIf(POSTGRES_URL !== undefined);

/** One PostgreSQL backend message: a type byte, its length, its body. */
function message(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(type), length, body]);
}
const readyForQuery = message('Z', Buffer.from('I'));
const authenticationOk = message('R', Buffer.alloc(4));
const adminShutdown = message(
  'E',
  Buffer.from('SFATAL\0C57P01\0Mterminating connection due to administrator command\0\0'),
);

/**
 * A PostgreSQL server reduced to what this test needs: the first connection answers every query
 * with an empty result; every later one is terminated by an administrator in the very packet that
 * says it is ready, so the error reaches the client the moment the pool hands it out.
 */
async function dyingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const first = sockets.length === 1;
    let startup = true;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (startup) {
        startup = false;
        if (first) socket.write(Buffer.concat([authenticationOk, readyForQuery]));
        else socket.end(Buffer.concat([authenticationOk, readyForQuery, adminShutdown]));
        return;
      }
      if (chunk[0] === 'Q'.charCodeAt(0))
        socket.write(Buffer.concat([message('C', Buffer.from('SELECT 0\0')), readyForQuery]));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgresql://parley@127.0.0.1:${port}/parley`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('[SA] a pooled connection that dies as it is handed out', () => {
  it('[SA] its error is logged and fails only the transaction that got it, never the process', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const server = await dyingServer();
    const logged: Error[] = [];
    try {
      const db = await openDatabase({
        databaseUrl: server.url,
        poolSize: 2,
        onConnectionError: (error) => logged.push(error),
      });
      // The first connection is held by a transaction, so the next one needs a new connection.
      let begun!: () => void;
      let finish!: () => void;
      const holding = new Promise<void>((resolve) => (begun = resolve));
      const held = db.sql.transaction(async () => {
        begun();
        await new Promise<void>((resolve) => (finish = resolve));
      });
      await holding;
      const ran = db.sql.transaction((tx) => tx.query('SELECT 1'));
      await expect(ran).rejects.toThrow(/not queryable|terminat/i);
      finish();
      await held;
      expect(uncaught).toEqual([]);
      expect(logged.map((e) => (e as { code?: string }).code)).toEqual(['57P01']);
      expect(await db.sql.query('SELECT 1')).toEqual([]); // the pool still answers, from its live connection
      await db.close();
    } finally {
      process.off('uncaughtException', onUncaught);
      await server.close();
    }
  });
});

/** Resolves once `condition` holds, checking again after each turn of the event loop's timers. */
async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An admin connection that kills the scratch database's backends, as an operator or a failover would. */
async function backendKiller(db: Database): Promise<{ kill(): Promise<number>; close(): Promise<void> }> {
  const [{ name } = { name: '' }] = await db.sql.query<{ name: string }>('SELECT current_database() AS name');
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  return {
    async kill() {
      const rows = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        [name],
      );
      return rows.rows[0]!.n;
    },
    close: () => admin.end(),
  };
}

scratch('[SA] PostgreSQL connections killed under load', () => {
  let test: TestDatabase;
  let store: SqlEventStore;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => {
    console.error('[SA] uncaught', error);
    uncaught.push(error);
  };
  beforeEach(async () => {
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
    test = await freshPostgres();
    await test.db.sql.exec('CREATE TABLE fault_side (event_id uuid PRIMARY KEY)');
    store = await SqlEventStore.open({ db: test.db, archiveDir: join(test.dataDir, 'archive') });
  });
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    await store.close();
    await test.dispose();
  });

  it('[SA] appends in flight while backends are terminated: the process survives, acknowledged appends are all readable', async () => {
    const acme = tenantId('acme');
    const killer = await backendKiller(test.db);
    const acked = new Map<string, string[]>(); // stream -> acknowledged event ids, in order
    let failures = 0;
    let done = false;

    const versionOf = async (s: StreamId): Promise<number> => {
      for (;;) {
        try {
          return await store.streamVersion(acme, s);
        } catch {
          // a read on a killed connection fails; the next one gets a fresh connection
        }
      }
    };
    const writer = async (w: number) => {
      const s = streamId(`fault-${w}`);
      const kind = (['plain', 'keyed', 'atomic'] as const)[w % 3]!;
      const mine: string[] = [];
      acked.set(s, mine);
      let version = 0;
      for (let i = 1; i <= 12; i++) {
        const events = [{ type: 'Appended', data: { w, i } }];
        try {
          if (kind === 'atomic') {
            const [result] = await store.appendAtomically(
              [{ tenantId: acme, streamId: s, events, expectedVersion: version }],
              {
                withinTransaction: async (tx, appended) => {
                  await tx.query('INSERT INTO fault_side (event_id) SELECT unnest($1::uuid[])', [
                    appended[0]!.events.map((e) => e.eventId),
                  ]);
                },
              },
            );
            mine.push(...result!.events.map((e) => e.eventId));
            version = result!.nextExpectedVersion;
          } else {
            const result = await store.append(acme, s, events, {
              expectedVersion: version,
              ...(kind === 'keyed' ? { idempotencyKey: `${s}-${i}` } : {}),
            });
            mine.push(...result.events.map((e) => e.eventId));
            version = result.nextExpectedVersion;
          }
        } catch {
          failures++; // allowed: an error the caller sees, never a crash; then carry on from the truth
          version = await versionOf(s);
        }
      }
    };

    const writers = Promise.all(Array.from({ length: 12 }, (_, w) => writer(w))).finally(() => {
      done = true;
    });
    const ackedCount = () => [...acked.values()].reduce((n, ids) => n + ids.length, 0);
    let killed = 0;
    while (!done) {
      killed += await killer.kill();
      const seen = ackedCount();
      await until(() => done || ackedCount() >= seen + 8, 'more acknowledged appends');
    }
    await writers;
    await killer.close();

    expect(uncaught).toEqual([]);
    expect(killed).toBeGreaterThan(0);
    // A fresh reader on a fresh connection: every acknowledged event is there, once, gap-free.
    const reader = await SqlEventStore.open({
      db: await test.open(),
      archiveDir: join(test.dataDir, 'archive'),
    });
    try {
      for (const [s, ids] of acked) {
        const events = await reader.readStream(acme, streamId(s));
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
        const stored = new Set(events.map((e) => e.eventId));
        expect(ids.filter((id) => !stored.has(id))).toEqual([]);
      }
      // The atomic writers' side rows committed with their events, or not at all.
      const side = await test.db.sql.query<{ event_id: string }>(
        'SELECT event_id::text AS event_id FROM fault_side',
      );
      const atomicEvents = (
        await Promise.all(
          [...acked.keys()].filter((_, w) => w % 3 === 2).map((s) => reader.readStream(acme, streamId(s))),
        )
      ).flat();
      expect(side.map((r) => r.event_id).sort()).toEqual(atomicEvents.map((e) => e.eventId).sort());
    } finally {
      await reader.close();
    }
    console.log(
      `[SA] ${killed} backends killed, ${failures} appends failed with an error, ${ackedCount()} acknowledged`,
    );
  });

  it('[SA] a transaction whose connection dies before COMMIT is written again, once, with its own writes', async () => {
    const acme = tenantId('acme');
    const s = streamId('retried-1');
    const t = streamId('retried-2');
    let attempts = 0;
    const dieOnce = async (tx: SqlQueryable, ids: string[]) => {
      if (++attempts === 1) await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
      await tx.query('INSERT INTO fault_side (event_id) SELECT unnest($1::uuid[])', [ids]);
    };
    const single = await store.append(acme, s, [{ type: 'Kept', data: {} }], {
      expectedVersion: 0,
      withinTransaction: (tx, appended) =>
        dieOnce(
          tx,
          appended.events.map((e) => e.eventId),
        ),
    });
    expect(single.firstVersion).toBe(1);
    attempts = 0;
    const [atomic] = await store.appendAtomically(
      [{ tenantId: acme, streamId: t, events: [{ type: 'Kept', data: {} }], expectedVersion: 0 }],
      {
        withinTransaction: (tx, appended) =>
          dieOnce(
            tx,
            appended[0]!.events.map((e) => e.eventId),
          ),
      },
    );
    expect(attempts).toBe(2);
    expect((await store.readStream(acme, s)).map((e) => e.eventId)).toEqual([single.events[0]!.eventId]);
    expect((await store.readStream(acme, t)).map((e) => e.eventId)).toEqual([atomic!.events[0]!.eventId]);
    const side = await test.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM fault_side');
    expect(side[0]!.n).toBe(2);
    expect(store.stats.connectionsLost).toBe(2);
    expect(uncaught).toEqual([]);
  });

  it('[SA] idle pooled connections killed between appends: the next append still succeeds', async () => {
    const acme = tenantId('acme');
    const s = streamId('idle-1');
    await store.append(acme, s, [{ type: 'Before', data: {} }], { expectedVersion: 0 });
    const killer = await backendKiller(test.db);
    expect(await killer.kill()).toBeGreaterThan(0);
    await killer.close();
    const after = await store.append(acme, s, [{ type: 'After', data: {} }], { expectedVersion: 1 });
    expect(after.firstVersion).toBe(2);
    expect((await store.readStream(acme, s)).map((e) => e.type)).toEqual(['Before', 'After']);
    expect(uncaught).toEqual([]);
  });
});

scratch('[SB] the LISTEN connection', () => {
  let test: TestDatabase;
  beforeEach(async () => {
    test = await freshPostgres();
  });
  afterEach(async () => {
    await test.dispose();
  });

  it('[SB] after its backend is terminated it reconnects, and a commit from another process wakes the subscriber again', async () => {
    const acme = tenantId('acme');
    const archiveDir = join(test.dataDir, 'archive');
    // No polling to fall back on: only a NOTIFY can wake this subscriber within the test.
    const store = await SqlEventStore.open({ db: test.db, archiveDir, pollIntervalMs: 600_000 });
    const other = await SqlEventStore.open({ db: await test.open(), archiveDir });
    const abort = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const event of store.subscribe({ tenantId: acme, after: START, signal: abort.signal }))
        seen.push(event.type);
    })();
    try {
      await until(() => test.db.listenState().state === 'listening', 'the first LISTEN');
      await other.append(acme, streamId('woken-1'), [{ type: 'First', data: {} }], { expectedVersion: 0 });
      await until(() => seen.includes('First'), 'the first wake-up');

      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      const [{ name } = { name: '' }] = await test.db.sql.query<{ name: string }>(
        'SELECT current_database() AS name',
      );
      const killed = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = $1 AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
        [name],
      );
      await admin.end();
      expect(killed.rows[0]!.n).toBeGreaterThan(0);
      await until(
        () => test.db.listenState().reconnects >= 1 && test.db.listenState().state === 'listening',
        'the LISTEN connection to come back',
      );
      await other.append(acme, streamId('woken-1'), [{ type: 'Second', data: {} }], { expectedVersion: 1 });
      await until(() => seen.includes('Second'), 'a wake-up after the reconnection');
      expect(seen).toEqual(['First', 'Second']);
    } finally {
      abort.abort();
      await store.close();
      await other.close();
      await following;
    }
  });
});
