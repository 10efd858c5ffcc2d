import { streamId, tenantId } from '@parley/domain';
import type { Checkpoint, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import { START, compareCheckpoints } from '../src/store/checkpoint';
import { ConcurrencyError, InvalidAppendError } from '../src/store/errors';
import { createMemoryEventStore } from '../src/store/memory';
import type { EventStore, NewEvent } from '../src/store/types';
import { eventStoreContract } from './store.contract';

const acme = tenantId('acme');
const globex = tenantId('globex');
const one = streamId('conversation-1');
const two = streamId('conversation-2');

function events(...types: string[]): NewEvent[] {
  return types.map((type, index) => ({ type, data: { index } }));
}

async function collect(
  iterable: AsyncIterable<RecordedEvent>,
  count: number,
  onEach: (event: RecordedEvent) => Promise<void> | void = () => {},
): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  for await (const event of iterable) {
    seen.push(event);
    await onEach(event);
    if (seen.length === count) break;
  }
  return seen;
}

eventStoreContract('memory', () => {
  let now = Date.now();
  const store = createMemoryEventStore({ clock: () => now });
  return Promise.resolve({
    store,
    setClock: (epochMs: number) => {
      now = epochMs;
    },
    dispose: () => store.close(),
  });
});

const C_ID = '0b5d8f3e-1c2a-4e6f-9a7b-3d4c5e6f7a8b';

describe('memory event store: append', () => {
  it('numbers a stream from 1 and stamps checkpoints, time and ids', async () => {
    const store = createMemoryEventStore({ clock: () => 1_700_000_000_000 });
    const first = await store.append(acme, one, events('A', 'B'), { expectedVersion: 'no_stream' });
    const second = await store.append(acme, one, [{ type: 'C', data: null, eventId: C_ID }], {
      expectedVersion: 2,
    });

    expect(first).toMatchObject({
      firstVersion: 1,
      nextExpectedVersion: 2,
      checkpoint: '0:2',
      duplicate: false,
    });
    expect(second).toMatchObject({ firstVersion: 3, nextExpectedVersion: 3, checkpoint: '0:3' });
    expect(second.events[0]).toMatchObject({ version: 3, eventId: C_ID, checkpoint: '0:3' });
    expect(first.events.map((event) => event.recordedAt)).toEqual([1_700_000_000_000, 1_700_000_000_000]);
    expect(first.events[0]!.eventId).not.toBe(first.events[1]!.eventId);
    expect(first.events[0]!.metadata).toEqual({});
    expect(await store.streamVersion(acme, one)).toBe(3);
  });

  it('refuses a stale expected version and writes nothing', async () => {
    const store = createMemoryEventStore();
    await store.append(acme, one, events('A'), { expectedVersion: 0 });

    const stale = store.append(acme, one, events('B'), { expectedVersion: 0 });
    await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(stale).rejects.toMatchObject({ expectedVersion: 0, actualVersion: 1 });
    await expect(
      store.append(acme, one, events('B'), { expectedVersion: 'no_stream' }),
    ).rejects.toMatchObject({
      code: 'CONCURRENCY_CONFLICT',
      expectedVersion: 'no_stream',
    });
    await expect(store.append(acme, one, events('B'), { expectedVersion: 2 })).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    expect(await store.streamVersion(acme, one)).toBe(1);
  });

  it("appends anywhere with 'any'", async () => {
    const store = createMemoryEventStore();
    await store.append(acme, one, events('A'), { expectedVersion: 'any' });
    const result = await store.append(acme, one, events('B'), { expectedVersion: 'any' });
    expect(result.firstVersion).toBe(2);
  });

  it('answers a repeated idempotency key with the first result, even with a stale version', async () => {
    const store = createMemoryEventStore();
    const first = await store.append(acme, one, events('A'), { expectedVersion: 0, idempotencyKey: 'k1' });
    await store.append(acme, one, events('B'), { expectedVersion: 1 });

    const again = await store.append(acme, one, events('X', 'Y'), {
      expectedVersion: 0,
      idempotencyKey: 'k1',
    });

    expect(again).toEqual({ ...first, duplicate: true });
    expect((await store.readStream(acme, one)).map((event) => event.type)).toEqual(['A', 'B']);
  });

  it('scopes idempotency keys to their stream', async () => {
    const store = createMemoryEventStore();
    await store.append(acme, one, events('A'), { expectedVersion: 0, idempotencyKey: 'k1' });
    const elsewhere = await store.append(acme, two, events('A'), {
      expectedVersion: 0,
      idempotencyKey: 'k1',
    });
    const otherTenant = await store.append(globex, one, events('A'), {
      expectedVersion: 0,
      idempotencyKey: 'k1',
    });
    expect(elsewhere.duplicate).toBe(false);
    expect(otherTenant.duplicate).toBe(false);
  });

  it.each([
    ['a malformed tenant', 'Acme Inc' as TenantId, one, events('A'), 0],
    ['a malformed stream', acme, 'no category' as StreamId, events('A'), 0],
    ['no events', acme, one, [], 0],
    ['an event without a type', acme, one, [{ type: '', data: {} }], 0],
    ['data that is not JSON', acme, one, [{ type: 'A', data: { at: new Date() } as never }], 0],
    ['metadata that is not an object', acme, one, [{ type: 'A', data: {}, metadata: [] as never }], 0],
    ['a negative expected version', acme, one, events('A'), -1],
    ['a fractional expected version', acme, one, events('A'), 1.5],
  ] as const)('refuses %s before writing anything', async (_case, tenant, stream, batch, expectedVersion) => {
    const store = createMemoryEventStore();
    await expect(store.append(tenant, stream, batch, { expectedVersion })).rejects.toBeInstanceOf(
      InvalidAppendError,
    );
    expect((await store.readAllTenants(START, 10)).events).toEqual([]);
  });

  it('keeps its own frozen copy of what it recorded', async () => {
    const store = createMemoryEventStore();
    const data = { items: [1, 2] };
    const result = await store.append(acme, one, [{ type: 'A', data }], { expectedVersion: 0 });
    data.items.push(3);

    const [stored] = await store.readStream(acme, one);
    expect(stored!.data).toEqual({ items: [1, 2] });
    expect(Object.isFrozen(stored!.data)).toBe(true);
    expect(() => (result.events as RecordedEvent[]).push(stored!)).toThrow(TypeError);
  });
});

describe('memory event store: reads', () => {
  async function seeded(): Promise<EventStore> {
    const store = createMemoryEventStore();
    await store.append(acme, one, events('A1', 'A2'), { expectedVersion: 0 }); // 0:1, 0:2
    await store.append(globex, one, events('G1'), { expectedVersion: 0 }); // 0:3
    await store.append(acme, two, events('B1'), { expectedVersion: 0 }); // 0:4
    await store.append(acme, one, events('A3'), { expectedVersion: 2 }); // 0:5
    return store;
  }

  it('reads a stream from a version, up to a limit', async () => {
    const store = await seeded();
    expect((await store.readStream(acme, one)).map((event) => event.type)).toEqual(['A1', 'A2', 'A3']);
    expect((await store.readStream(acme, one, { fromVersion: 2 })).map((event) => event.version)).toEqual([
      2, 3,
    ]);
    expect(
      (await store.readStream(acme, one, { fromVersion: 1, limit: 1 })).map((event) => event.type),
    ).toEqual(['A1']);
    expect(await store.readStream(acme, one, { fromVersion: 4 })).toEqual([]);
    expect(await store.readStream(acme, streamId('conversation-none'))).toEqual([]);
    expect(await store.streamVersion(acme, streamId('conversation-none'))).toBe(0);
  });

  it("keeps a tenant's streams apart from another tenant's stream of the same id", async () => {
    const store = await seeded();
    expect((await store.readStream(globex, one)).map((event) => event.type)).toEqual(['G1']);
  });

  it("reads one tenant's log in pages, in global order", async () => {
    const store = await seeded();
    const first = await store.readAll(acme, START, 2);
    const second = await store.readAll(acme, first.next, 2);
    const third = await store.readAll(acme, second.next, 2);

    expect(first.events.map((event) => event.type)).toEqual(['A1', 'A2']);
    expect(second.events.map((event) => event.type)).toEqual(['B1', 'A3']);
    expect(second.next).toBe('0:5');
    expect(third).toEqual({ events: [], next: '0:5' });
  });

  it("reads every tenant's log for system processes", async () => {
    const store = await seeded();
    const all = await store.readAllTenants(START, 100);
    expect(all.events.map((event) => event.type)).toEqual(['A1', 'A2', 'G1', 'B1', 'A3']);
    const checkpoints = all.events.map((event) => event.checkpoint);
    expect([...checkpoints].sort(compareCheckpoints)).toEqual(checkpoints);
    expect((await store.readAllTenants('0:3' as Checkpoint, 100)).events.map((event) => event.type)).toEqual([
      'B1',
      'A3',
    ]);
  });

  it('refuses a malformed checkpoint or limit', async () => {
    const store = await seeded();
    await expect(store.readAllTenants('nope' as Checkpoint, 10)).rejects.toBeInstanceOf(TypeError);
    await expect(store.readAll(acme, START, 0)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('memory event store: subscribe', () => {
  it('catches up across pages, then follows new appends', async () => {
    const store = createMemoryEventStore();
    await store.append(acme, one, events('A', 'B', 'C'), { expectedVersion: 0 });
    const controller = new AbortController();

    const seen = await collect(
      store.subscribe({ after: START, batchSize: 2, signal: controller.signal }),
      5,
      async (event) => {
        // Appending while holding an event must not be missed by the wait that follows the page.
        if (event.type === 'C') await store.append(acme, one, events('D', 'E'), { expectedVersion: 3 });
      },
    );

    expect(seen.map((event) => event.type)).toEqual(['A', 'B', 'C', 'D', 'E']);
    controller.abort();
  });

  it('wakes a waiting subscriber on the next append', async () => {
    const store = createMemoryEventStore();
    const controller = new AbortController();
    const seen = collect(store.subscribe({ after: START, signal: controller.signal }), 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.append(acme, one, events('A'), { expectedVersion: 0 });
    expect((await seen).map((event) => event.type)).toEqual(['A']);
  });

  it("follows only its tenant's events, after the given checkpoint", async () => {
    const store = createMemoryEventStore();
    await store.append(acme, one, events('A1'), { expectedVersion: 0 });
    await store.append(globex, one, events('G1'), { expectedVersion: 0 });
    await store.append(acme, one, events('A2'), { expectedVersion: 1 });
    await store.append(globex, one, events('G2'), { expectedVersion: 1 });
    await store.append(acme, one, events('A3'), { expectedVersion: 2 });

    const seen = await collect(store.subscribe({ tenantId: acme, after: '0:1' as Checkpoint }), 2);
    expect(seen.map((event) => event.type)).toEqual(['A2', 'A3']);
  });

  it('ends when its signal aborts, even while waiting', async () => {
    const store = createMemoryEventStore();
    const controller = new AbortController();
    const seen = collect(store.subscribe({ after: START, signal: controller.signal }), 10);
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await seen).toEqual([]);
  });

  it('ends when the store closes, and the store then refuses work', async () => {
    const store = createMemoryEventStore();
    const seen = collect(store.subscribe({ after: START }), 10);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.close();
    expect(await seen).toEqual([]);
    await expect(store.append(acme, one, events('A'), { expectedVersion: 0 })).rejects.toThrow(/closed/);
  });
});
