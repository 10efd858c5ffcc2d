import { streamId, tenantId, type RecordedEvent } from '@parley/domain';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareCheckpoints, START } from '../src/store/checkpoint';
import { ConcurrencyError, InvalidAppendError } from '../src/store/errors';
import type { EventStore } from '../src/store/types';
import { MAX_EVENT_BYTES } from '../src/store/validation';

/** One event store under test, with a clock the test can move. */
export interface StoreHarness {
  readonly store: EventStore;
  setClock(epochMs: number): void;
  /** Another store on the same database, as a second process would open it (when it can). */
  readonly secondStore?: () => Promise<EventStore>;
  dispose(): Promise<void>;
}

const acme = tenantId('acme');
const globex = tenantId('globex');
const event = (n: number, extra: Record<string, unknown> = {}) => ({
  type: 'Counted',
  data: { n, ...extra },
});

/** The event store's behaviour, run against every implementation (PGlite, PostgreSQL, memory). */
export function eventStoreContract(name: string, create: () => Promise<StoreHarness>): void {
  describe(`event store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: EventStore;
    beforeEach(async () => {
      harness = await create();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.dispose();
    });

    describe('appending and reading a stream', () => {
      it('numbers events 1, 2, 3 and reads them back in order with increasing checkpoints', async () => {
        const s = streamId('ledger-1');
        const first = await store.append(acme, s, [event(1), event(2)], { expectedVersion: 'no_stream' });
        const second = await store.append(acme, s, [event(3)], { expectedVersion: 2 });
        expect([
          first.firstVersion,
          first.nextExpectedVersion,
          second.firstVersion,
          second.nextExpectedVersion,
        ]).toEqual([1, 2, 3, 3]);
        const read = await store.readStream(acme, s);
        expect(read.map((e) => [e.version, e.data])).toEqual([
          [1, { n: 1 }],
          [2, { n: 2 }],
          [3, { n: 3 }],
        ]);
        expect(compareCheckpoints(read[0]!.checkpoint, read[1]!.checkpoint)).toBeLessThan(0);
        expect(compareCheckpoints(read[1]!.checkpoint, read[2]!.checkpoint)).toBeLessThan(0);
        expect(read.map((e) => e.eventId)).toEqual([...first.events, ...second.events].map((e) => e.eventId));
        expect(await store.streamVersion(acme, s)).toBe(3);
        expect((await store.readStream(acme, s, { fromVersion: 2, limit: 1 })).map((e) => e.version)).toEqual(
          [2],
        );
      });

      it('refuses a wrong expected version with a concurrency error and writes nothing', async () => {
        const s = streamId('ledger-2');
        await store.append(acme, s, [event(1)], { expectedVersion: 0 });
        await expect(store.append(acme, s, [event(2)], { expectedVersion: 0 })).rejects.toBeInstanceOf(
          ConcurrencyError,
        );
        await expect(store.append(acme, s, [event(2)], { expectedVersion: 5 })).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
          actualVersion: 1,
        });
        await expect(
          store.append(acme, streamId('ledger-none'), [event(1)], { expectedVersion: 3 }),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await store.streamVersion(acme, s)).toBe(1);
        expect(await store.streamVersion(acme, streamId('ledger-none'))).toBe(0);
      });

      it("appends with expected version 'any' whatever the version is", async () => {
        const s = streamId('ledger-any');
        await store.append(acme, s, [event(1)], { expectedVersion: 'any' });
        const result = await store.append(acme, s, [event(2), event(3)], { expectedVersion: 'any' });
        expect([result.firstVersion, result.nextExpectedVersion]).toEqual([2, 3]);
      });

      it('32 concurrent writers to one stream: exactly one wins each version, the rest get the concurrency error', async () => {
        const s = streamId('ledger-race');
        const rounds = 6;
        for (let version = 0; version < rounds; version++) {
          const attempts = await Promise.allSettled(
            Array.from({ length: 32 }, (_, writer) =>
              store.append(acme, s, [event(version, { writer })], { expectedVersion: version }),
            ),
          );
          const won = attempts.filter((a) => a.status === 'fulfilled');
          const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(31);
          for (const loss of lost) expect(loss.reason).toBeInstanceOf(ConcurrencyError);
        }
        const read = await store.readStream(acme, s);
        expect(read.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(read.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5]);
      });
    });

    describe('idempotent appends', () => {
      it('a retry with the same idempotency key returns the first result and writes nothing new', async () => {
        const s = streamId('reply-1');
        const first = await store.append(acme, s, [event(1), event(2)], {
          expectedVersion: 0,
          idempotencyKey: 'client-7:42',
        });
        const retry = await store.append(acme, s, [event(1), event(2)], {
          expectedVersion: 0,
          idempotencyKey: 'client-7:42',
        });
        expect(first.duplicate).toBe(false);
        expect(retry.duplicate).toBe(true);
        expect(retry.firstVersion).toBe(first.firstVersion);
        expect(retry.nextExpectedVersion).toBe(first.nextExpectedVersion);
        expect(retry.checkpoint).toBe(first.checkpoint);
        expect(retry.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
        expect(await store.streamVersion(acme, s)).toBe(2);
        const next = await store.append(acme, s, [event(3)], {
          expectedVersion: 2,
          idempotencyKey: 'client-7:43',
        });
        expect(next.firstVersion).toBe(3);
      });

      it('concurrent appends with one key write once', async () => {
        const s = streamId('reply-2');
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            store.append(acme, s, [event(1)], { expectedVersion: 'any', idempotencyKey: 'k' }),
          ),
        );
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(results.map((r) => r.checkpoint)).size).toBe(1);
        expect(await store.streamVersion(acme, s)).toBe(1);
      });

      it('a key that lost a concurrency race can be used again', async () => {
        const s = streamId('reply-3');
        await store.append(acme, s, [event(1)], { expectedVersion: 0 });
        await expect(
          store.append(acme, s, [event(2)], { expectedVersion: 0, idempotencyKey: 'again' }),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        const ok = await store.append(acme, s, [event(2)], { expectedVersion: 1, idempotencyKey: 'again' });
        expect(ok).toMatchObject({ duplicate: false, firstVersion: 2 });
      });
    });

    describe('[SM1] a stale numeric expected version on every write path', () => {
      // Each path is tried with a version behind the stream's (another writer moved it) and one
      // ahead of it: a store that skipped the version check on that path would write a second
      // event 3, which the events table's key (it includes the day) would not stop.
      const atThree = async (s: ReturnType<typeof streamId>) => {
        await store.append(acme, s, [event(1), event(2), event(3)], { expectedVersion: 0 });
      };
      const unchanged = async (s: ReturnType<typeof streamId>) => {
        expect(await store.streamVersion(acme, s)).toBe(3);
        expect((await store.readStream(acme, s)).map((e) => e.version)).toEqual([1, 2, 3]);
      };

      it('[SM1] an append with an idempotency key is refused, writes nothing and frees its key', async () => {
        const s = streamId('stale-keyed');
        await atThree(s);
        for (const stale of [2, 1, 4]) {
          await expect(
            store.append(acme, s, [event(9)], { expectedVersion: stale, idempotencyKey: `stale-${stale}` }),
          ).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT', actualVersion: 3 });
          await unchanged(s);
        }
        // The refused key is free again: the retry at the real version is written, once.
        const retried = await store.append(acme, s, [event(9)], {
          expectedVersion: 3,
          idempotencyKey: 'stale-2',
        });
        expect([retried.duplicate, retried.firstVersion]).toEqual([false, 4]);
      });

      it('[SM1] an atomic append with one stream behind its expected version writes no stream', async () => {
        const s = streamId('stale-atomic');
        const other = streamId('stale-atomic-other');
        await atThree(s);
        for (const stale of [2, 4]) {
          await expect(
            store.appendAtomically([
              { tenantId: acme, streamId: other, events: [event(7)], expectedVersion: 'no_stream' },
              { tenantId: acme, streamId: s, events: [event(8)], expectedVersion: stale },
            ]),
          ).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT', actualVersion: 3 });
          await unchanged(s);
          expect(await store.streamVersion(acme, other)).toBe(0);
        }
      });
    });

    describe('atomic appends across streams', () => {
      it("commits every stream's events together, in the order given, visible to readers at once", async () => {
        const a = streamId('conversation-a');
        const b = streamId('conversation-b');
        await store.append(acme, a, [event(0)], { expectedVersion: 0 });
        const results = await store.appendAtomically([
          { tenantId: acme, streamId: a, events: [event(1), event(2)], expectedVersion: 1 },
          { tenantId: acme, streamId: b, events: [event(3)], expectedVersion: 'no_stream' },
        ]);
        expect(results.map((r) => [r.streamId, r.firstVersion, r.nextExpectedVersion])).toEqual([
          [a, 2, 3],
          [b, 1, 1],
        ]);
        expect((await store.readStream(acme, a)).map((e) => e.version)).toEqual([1, 2, 3]);
        expect((await store.readStream(acme, b)).map((e) => e.data)).toEqual([{ n: 3 }]);
        const log = (await store.readAll(acme, START, 100)).events.map((e) => (e.data as { n: number }).n);
        expect(log).toEqual([0, 1, 2, 3]);
      });

      it('writes nothing on any stream when one of them is not at its expected version', async () => {
        const a = streamId('conversation-c');
        const b = streamId('conversation-d');
        await store.append(acme, b, [event(1)], { expectedVersion: 0 });
        await expect(
          store.appendAtomically([
            { tenantId: acme, streamId: a, events: [event(2)], expectedVersion: 0 },
            { tenantId: acme, streamId: b, events: [event(3)], expectedVersion: 0 },
          ]),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await store.streamVersion(acme, a)).toBe(0);
        expect(await store.streamVersion(acme, b)).toBe(1);
        expect((await store.readAll(acme, START, 100)).events).toHaveLength(1);
        // The streams are still writable at the versions they really have.
        await store.appendAtomically([
          { tenantId: acme, streamId: a, events: [event(2)], expectedVersion: 0 },
          { tenantId: acme, streamId: b, events: [event(3)], expectedVersion: 1 },
        ]);
        expect(await store.streamVersion(acme, b)).toBe(2);
      });

      it('one of two racing atomic appends over a shared stream wins whole, the other writes nothing', async () => {
        const shared = streamId('conversation-shared');
        const [first, second] = await Promise.allSettled([
          store.appendAtomically([
            { tenantId: acme, streamId: shared, events: [event(1)], expectedVersion: 0 },
            { tenantId: acme, streamId: streamId('conversation-x'), events: [event(2)], expectedVersion: 0 },
          ]),
          store.appendAtomically([
            { tenantId: acme, streamId: streamId('conversation-y'), events: [event(3)], expectedVersion: 0 },
            { tenantId: acme, streamId: shared, events: [event(4)], expectedVersion: 0 },
          ]),
        ]);
        expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected']);
        const written = (await store.readAll(acme, START, 100)).events.map(
          (e) => (e.data as { n: number }).n,
        );
        expect(written.sort()).toEqual(first.status === 'fulfilled' ? [1, 2] : [3, 4]);
      });

      it('refuses a stream named twice, an empty list and an unchecked version, writing nothing', async () => {
        const a = streamId('conversation-e');
        await expect(
          store.appendAtomically([
            { tenantId: acme, streamId: a, events: [event(1)], expectedVersion: 0 },
            { tenantId: acme, streamId: a, events: [event(2)], expectedVersion: 1 },
          ]),
        ).rejects.toThrow(/twice/);
        await expect(store.appendAtomically([])).rejects.toBeInstanceOf(InvalidAppendError);
        await expect(
          store.appendAtomically([
            { tenantId: acme, streamId: a, events: [event(1)], expectedVersion: 'any' as never },
          ]),
        ).rejects.toThrow(/expected version/);
        await expect(
          store.appendAtomically([
            { tenantId: acme, streamId: streamId('conversation-f'), events: [event(1)], expectedVersion: 0 },
            { tenantId: acme, streamId: a, events: [], expectedVersion: 0 },
          ]),
        ).rejects.toBeInstanceOf(InvalidAppendError);
        expect((await store.readAll(acme, START, 100)).events).toHaveLength(0);
      });
    });

    describe('bad input', () => {
      const refused = async (promise: Promise<unknown>, message: RegExp) => {
        await expect(promise).rejects.toBeInstanceOf(InvalidAppendError);
        await expect(promise).rejects.toThrow(message);
      };

      it('refuses an event over 256 KB, naming the limit, and writes nothing', async () => {
        const s = streamId('big-1');
        await refused(
          store.append(acme, s, [event(1), { type: 'Huge', data: { blob: 'x'.repeat(MAX_EVENT_BYTES) } }], {
            expectedVersion: 0,
          }),
          /at most 262144 bytes/,
        );
        expect(await store.streamVersion(acme, s)).toBe(0);
      });

      it('refuses payloads that are not JSON-serialisable, saying where', async () => {
        const s = streamId('json-1');
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        const cases: [unknown, RegExp][] = [
          [{ amount: 10n }, /\$\.amount \(bigint/],
          [{ at: new Date(0) }, /\$\.at \(a Date object/],
          [{ f: () => 1 }, /\$\.f \(function/],
          [{ n: Number.NaN }, /\$\.n \(NaN/],
          [{ missing: undefined }, /\$\.missing \(undefined/],
          [circular, /circular/],
        ];
        for (const [data, message] of cases) {
          await refused(
            store.append(acme, s, [{ type: 'Bad', data: data as never }], { expectedVersion: 'any' }),
            message,
          );
        }
        expect(await store.streamVersion(acme, s)).toBe(0);
      });

      it('refuses malformed tenant and stream ids, an empty append and a bad expected version', async () => {
        await refused(
          store.append('Acme Corp' as never, streamId('x-1'), [event(1)], { expectedVersion: 0 }),
          /tenant id/,
        );
        await refused(
          store.append(acme, 'no category' as never, [event(1)], { expectedVersion: 0 }),
          /stream id/,
        );
        await refused(store.append(acme, streamId('x-1'), [], { expectedVersion: 0 }), /no events/);
        await refused(
          store.append(acme, streamId('x-1'), [event(1)], { expectedVersion: -1 }),
          /expected version/,
        );
        await refused(
          store.append(acme, streamId('x-1'), [{ type: '', data: {} }], { expectedVersion: 0 }),
          /type/,
        );
        await expect(store.readStream('../etc' as never, streamId('x-1'))).rejects.toThrow(/tenant id/);
        expect(await store.streamVersion(acme, streamId('x-1'))).toBe(0);
      });
    });

    describe('tenancy', () => {
      it("never shows one tenant's events to another", async () => {
        const s = streamId('conversation-shared-id');
        await store.append(acme, s, [event(1)], { expectedVersion: 0 });
        await store.append(globex, s, [event(100), event(101)], { expectedVersion: 0 });
        expect((await store.readStream(acme, s)).map((e) => e.data)).toEqual([{ n: 1 }]);
        expect((await store.readStream(globex, s)).map((e) => e.data)).toEqual([{ n: 100 }, { n: 101 }]);
        const acmeLog = await store.readAll(acme, START, 100);
        expect(acmeLog.events.every((e) => e.tenantId === acme)).toBe(true);
        expect(acmeLog.events).toHaveLength(1);
        const all = await store.readAllTenants(START, 100);
        expect(all.events).toHaveLength(3);
      });
    });

    describe('the global log', () => {
      it('reads in pages that never repeat or skip an event', async () => {
        for (let i = 0; i < 5; i++)
          await store.append(acme, streamId(`page-${i}`), [event(i), event(i + 10)], { expectedVersion: 0 });
        const seen: RecordedEvent[] = [];
        let cursor = START;
        for (;;) {
          const page = await store.readAll(acme, cursor, 3);
          if (page.events.length === 0) break;
          seen.push(...page.events);
          cursor = page.next;
        }
        expect(seen).toHaveLength(10);
        expect(new Set(seen.map((e) => e.eventId)).size).toBe(10);
        for (let i = 1; i < seen.length; i++) {
          expect(compareCheckpoints(seen[i - 1]!.checkpoint, seen[i]!.checkpoint)).toBeLessThan(0);
        }
      });

      it('events on both sides of midnight UTC read back in order', async () => {
        const s = streamId('night-1');
        const midnight = Date.parse('2026-11-23T00:00:00.000Z');
        harness.setClock(midnight - 10);
        await store.append(acme, s, [event(1)], { expectedVersion: 0 });
        harness.setClock(midnight + 10);
        await store.append(acme, s, [event(2)], { expectedVersion: 1 });
        const read = await store.readStream(acme, s);
        expect(read.map((e) => [e.version, new Date(e.recordedAt).toISOString()])).toEqual([
          [1, '2026-11-22T23:59:59.990Z'],
          [2, '2026-11-23T00:00:00.010Z'],
        ]);
        const log = await store.readAll(acme, START, 10);
        expect(log.events.map((e) => e.version)).toEqual([1, 2]);
      });

      it('a subscriber following 8 concurrent writers sees every committed event exactly once, in checkpoint order', async () => {
        const second = harness.secondStore ? await harness.secondStore() : store;
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.tuple(
                fc.integer({ min: 0, max: 7 }),
                fc.integer({ min: 1, max: 4 }),
                fc.integer({ min: 0, max: 3 }),
              ),
              {
                minLength: 8,
                maxLength: 60,
              },
            ),
            async (plan) => {
              run++;
              const tenant = tenantId(`sub-${run}`);
              const controller = new AbortController();
              const received: RecordedEvent[] = [];
              const following = (async () => {
                for await (const e of store.subscribe({
                  tenantId: tenant,
                  after: START,
                  signal: controller.signal,
                  batchSize: 7,
                })) {
                  received.push(e);
                }
              })();
              // Writer w appends its share of the plan to its own streams, through one of two stores,
              // with random pauses so commits interleave differently on every run.
              const writers = Array.from({ length: 8 }, async (_, w) => {
                const mine = plan.filter(([writer]) => writer === w);
                for (const [, count, pause] of mine) {
                  if (pause > 0) await new Promise((r) => setTimeout(r, pause));
                  const target = (w + pause) % 2 === 0 ? store : second;
                  await target.append(
                    tenant,
                    streamId(`w-${w}x${pause}`),
                    Array.from({ length: count }, (_, i) => event(i)),
                    {
                      expectedVersion: 'any',
                    },
                  );
                }
              });
              await Promise.all(writers);
              const total = plan.reduce((sum, [, count]) => sum + count, 0);
              const deadline = Date.now() + 20_000;
              while (received.length < total && Date.now() < deadline)
                await new Promise((r) => setTimeout(r, 5));
              await new Promise((r) => setTimeout(r, 30)); // anything extra would show up now
              controller.abort();
              await following;
              const committed = [];
              let cursor = START;
              for (;;) {
                const page = await store.readAll(tenant, cursor, 500);
                if (page.events.length === 0) break;
                committed.push(...page.events);
                cursor = page.next;
              }
              expect(committed).toHaveLength(total);
              expect(received.map((e) => e.eventId)).toEqual(committed.map((e) => e.eventId));
              for (let i = 1; i < received.length; i++) {
                expect(compareCheckpoints(received[i - 1]!.checkpoint, received[i]!.checkpoint)).toBeLessThan(
                  0,
                );
              }
            },
          ),
          { numRuns: 12 },
        );
        if (second !== store) await second.close();
      });
    });
  });
}
