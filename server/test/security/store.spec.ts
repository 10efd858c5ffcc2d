import { join } from 'node:path';
import { streamId, tenantId, type RecordedEvent } from '@parley/domain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { START } from '../../src/store/checkpoint';
import { SqlEventStore } from '../../src/store/sql-store';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from '../support/databases';

const acme = tenantId('acme');
const event = (n: number) => ({ type: 'Counted', data: { n } });

const backends: [string, () => Promise<TestDatabase>, boolean][] = [
  ['PGlite', freshPglite, true],
  ['PostgreSQL (DATABASE_URL)', freshPostgres, POSTGRES_URL !== undefined],
];

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const each of opened.splice(0).reverse()) await each.close();
});

async function storeOn(test: TestDatabase, db = test.db): Promise<SqlEventStore> {
  const store = await SqlEventStore.open({
    db,
    archiveDir: join(test.dataDir, 'archive'),
    pollIntervalMs: 200,
  });
  opened.push(store);
  return store;
}

async function database(create: () => Promise<TestDatabase>): Promise<TestDatabase> {
  const test = await create();
  opened.push({ close: () => test.dispose() });
  return test;
}

for (const [name, create, enabled] of backends) {
  describe.runIf(enabled)(`[SM1] transactional appends on ${name}`, () => {
    it('[SM1] an append with withinTransaction and a stale expected version is refused before its callback runs', async () => {
      const test = await database(create);
      const store = await storeOn(test);
      const s = streamId('stale-within');
      await store.append(acme, s, [event(1), event(2), event(3)], { expectedVersion: 0 });
      const within = vi.fn(() => Promise.resolve());
      for (const stale of [2, 1, 4]) {
        await expect(
          store.append(acme, s, [event(9)], { expectedVersion: stale, withinTransaction: within }),
        ).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT', actualVersion: 3 });
      }
      expect(within).not.toHaveBeenCalled();
      expect((await store.readStream(acme, s)).map((e) => e.version)).toEqual([1, 2, 3]);
      const written = await store.append(acme, s, [event(9)], {
        expectedVersion: 3,
        withinTransaction: within,
      });
      expect(written.firstVersion).toBe(4);
      expect(within).toHaveBeenCalledOnce();
    });

    it('[SM1] an atomic append with withinTransaction and a stale version runs no callback and writes nothing', async () => {
      const test = await database(create);
      const store = await storeOn(test);
      const s = streamId('stale-atomic-within');
      await store.append(acme, s, [event(1), event(2), event(3)], { expectedVersion: 0 });
      const within = vi.fn(() => Promise.resolve());
      await expect(
        store.appendAtomically([{ tenantId: acme, streamId: s, events: [event(9)], expectedVersion: 2 }], {
          withinTransaction: within,
        }),
      ).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
      expect(within).not.toHaveBeenCalled();
      expect(await store.streamVersion(acme, s)).toBe(3);
    });
  });
}

describe.runIf(POSTGRES_URL !== undefined)('[SM3] the gap-safe global order (PostgreSQL)', () => {
  it('[SM3] a reader sees neither of two commits while the older transaction is open, then both in order', async () => {
    const test = await database(freshPostgres);
    const writer = await storeOn(test);
    const other = await storeOn(test, await test.open());
    const reader = await storeOn(test, await test.open());

    // Transaction 1 writes its event and then stays open until the gate opens.
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = writer.appendAtomically(
      [{ tenantId: acme, streamId: streamId('older-tx'), events: [event(1)], expectedVersion: 'no_stream' }],
      {
        withinTransaction: async () => {
          inside();
          await gate;
        },
      },
    );
    await entered;

    // Transaction 2 starts later and commits first.
    await other.append(acme, streamId('younger-tx'), [event(2)], { expectedVersion: 'no_stream' });

    const whileOpen = await reader.readAll(acme, START, 100);
    expect(whileOpen.events).toEqual([]);
    // Its checkpoint must not move past either event, or a cursor saved now would skip event 1.
    const afterNothing = await reader.readAll(acme, whileOpen.next, 100);
    expect(afterNothing.events).toEqual([]);

    open();
    await first;
    const settled = await reader.readAll(acme, whileOpen.next, 100);
    expect(settled.events.map((e: RecordedEvent) => (e.data as { n: number }).n)).toEqual([1, 2]);
  });
});
