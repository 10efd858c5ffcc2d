import { DomainError, streamId, tenantId } from '@parley/domain';
import type { RecordedEvent } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import { GrainConflictError, GrainRuntimeClosedError, defineGrain } from '../src/actors';
import type { BroadcastChannel } from '../src/broadcast';
import { acme, deposit, harness, ledger, ledgerDecider, tick, withdraw } from './actors.support';
import type { LedgerCommand, LedgerEvent, LedgerState } from './actors.support';

const stream = (account: string) => streamId(`ledger-${account}`);

describe('grain runtime: one activation per key', () => {
  it('runs the commands of one key one at a time, in the order sent', async () => {
    const { runtime, store } = harness();
    let inside = 0;
    let overlaps = 0;
    // Entry is when the runtime decides, exit when the append it then makes has committed.
    const probed = defineGrain<LedgerCommand, LedgerState, LedgerEvent>({
      category: 'ledger',
      decider: {
        ...ledgerDecider,
        decide: (command, state) => {
          if (inside > 0) overlaps += 1;
          inside += 1;
          return ledgerDecider.decide(command, state);
        },
      },
    });
    store.afterAppend = async () => {
      await tick(Math.random() * 2);
      inside -= 1;
    };

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => runtime.get(probed, acme, 'a').ask(deposit('a', i + 1))),
    );

    expect(overlaps).toBe(0);
    expect(answers.map((answer) => answer.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(answers.at(-1)!.state).toEqual({ balance: 210, entries: 20 });
  });

  it('runs different keys in parallel: a slow append for one does not hold up another', async () => {
    const { runtime, store } = harness();
    const release = store.hold(stream('slow'));
    let slowDone = false;
    const slow = runtime
      .get(ledger, acme, 'slow')
      .ask(deposit('slow', 1))
      .then(() => {
        slowDone = true;
      });

    const fast = await runtime.get(ledger, acme, 'fast').ask(deposit('fast', 5));

    expect(fast.state.balance).toBe(5);
    expect(slowDone).toBe(false);
    release();
    await slow;
    expect(slowDone).toBe(true);
  });

  it('keeps tenants apart: the same id in two tenants is two grains', async () => {
    const { runtime } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    await runtime.get(ledger, tenantId('globex'), 'a').ask(deposit('a', 1));
    expect((await runtime.read(ledger, acme, 'a')).state.balance).toBe(10);
    expect((await runtime.read(ledger, tenantId('globex'), 'a')).state.balance).toBe(1);
  });

  it('refuses a second grain definition for a category already active', async () => {
    const { runtime } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 1));
    const impostor = defineGrain({ category: 'ledger', decider: ledgerDecider });
    await expect(runtime.get(impostor, acme, 'a').ask(deposit('a', 1))).rejects.toThrow(
      /two grain definitions/,
    );
  });
});

describe('grain runtime: a command', () => {
  it('publishes after the commit, and answers after publishing', async () => {
    const { runtime, store, broadcast } = harness();
    const steps: string[] = [];
    const publishing: BroadcastChannel = {
      ...broadcast,
      async publish(topics, event) {
        const visible = (await store.inner.streamVersion(event.tenantId, event.streamId)) >= event.version;
        steps.push(`publish v${event.version} ${visible ? 'committed' : 'NOT committed'}`);
        await tick(5);
        await broadcast.publish(topics, event);
        steps.push(`published v${event.version}`);
      },
    };
    const { runtime: observed } = harness({ broadcast: publishing }, { store });
    const listener = broadcast.subscribe([{ kind: 'board', tenantId: acme, id: 'ledger-a' }]);
    store.afterAppend = () => {
      steps.push('committed');
    };

    await observed
      .get(ledger, acme, 'a')
      .ask(deposit('a', 3))
      .then(() => steps.push('answered'));

    expect(steps).toEqual(['committed', 'publish v1 committed', 'published v1', 'answered']);
    const delivery = await listener.next();
    expect(delivery.value).toMatchObject({ kind: 'event', event: { type: 'Deposited', version: 1 } });
    await runtime.close();
  });

  it('publishes on the tenant topic and the topics the grain names', async () => {
    const { runtime, broadcast } = harness();
    const tenantFeed = broadcast.subscribe([{ kind: 'tenant', tenantId: acme }]);
    const boardFeed = broadcast.subscribe([{ kind: 'board', tenantId: acme, id: 'ledger-a' }]);
    const otherBoard = broadcast.subscribe([{ kind: 'board', tenantId: acme, id: 'ledger-b' }]);

    await runtime.get(ledger, acme, 'a').ask(deposit('a', 3));

    expect((await tenantFeed.next()).value).toMatchObject({ event: { streamId: 'ledger-a' } });
    expect((await boardFeed.next()).value).toMatchObject({ event: { streamId: 'ledger-a' } });
    expect(broadcast.stats().published).toBe(1);
    otherBoard.unsubscribe();
    expect(await otherBoard.next()).toEqual({ done: true, value: undefined });
  });

  it('answers a command that decides nothing with the current state, appending nothing', async () => {
    const { runtime, store } = harness();
    const ref = runtime.get(ledger, acme, 'a');
    await ref.ask(deposit('a', 7));
    let appends = 0;
    store.beforeAppend = () => {
      appends += 1;
    };

    const answer = await ref.ask({ type: 'Audit', account: 'a' });

    expect(answer).toEqual({ events: [], state: { balance: 7, entries: 1 }, version: 1, duplicate: false });
    expect(appends).toBe(0);
  });

  it('answers a domain error to its caller and keeps the activation', async () => {
    const { runtime } = harness();
    const ref = runtime.get(ledger, acme, 'a');
    await ref.ask(deposit('a', 5));

    const refused = ref.ask(withdraw('a', 50));
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });

    expect((await ref.ask(withdraw('a', 5))).state).toEqual({ balance: 0, entries: 2 });
    expect(runtime.stats().activations).toBe(1);
  });

  it('stamps events with the metadata given and repeats nothing for a repeated idempotency key', async () => {
    const { runtime, store } = harness();
    const ref = runtime.get(ledger, acme, 'a');
    const options = { idempotencyKey: 'client-1:7', metadata: { actor: { kind: 'agent', id: 'ana' } } };

    const first = await ref.ask(deposit('a', 5), options);
    const retry = await ref.ask(deposit('a', 5), options);

    expect(first.duplicate).toBe(false);
    expect(retry).toMatchObject({ duplicate: true, version: 1, state: { balance: 5, entries: 1 } });
    expect(retry.events.map((event) => event.eventId)).toEqual(first.events.map((event) => event.eventId));
    const stored = await store.inner.readStream(acme, stream('a'));
    expect(stored.map((event) => event.metadata)).toEqual([{ actor: { kind: 'agent', id: 'ana' } }]);
  });

  it('serves reads of an active grain from memory', async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 5));
    const readsAfterLoad = store.reads.length;

    expect(await runtime.read(ledger, acme, 'a')).toEqual({ state: { balance: 5, entries: 1 }, version: 1 });
    expect(store.reads.length).toBe(readsAfterLoad);
  });
});

describe('grain runtime: snapshots and passivation', () => {
  it('reloads a passivated grain from its snapshot and the tail, to the same state', async () => {
    const { runtime, store, snapshots, advance } = harness();
    const ref = runtime.get(ledger, acme, 'a');
    for (const amount of [1, 2, 3, 4, 5, 6, 7]) await ref.ask(deposit('a', amount));
    await ref.ask(withdraw('a', 8));
    const before = await ref.read();
    await tick();

    advance(1000);
    expect(runtime.passivateIdle()).toBe(1);
    expect(runtime.stats()).toMatchObject({ active: 0, passivations: 1, snapshots: 2 });
    expect((await snapshots.load(acme, stream('a')))?.version).toBe(6);

    const after = await ref.read();

    expect(after).toEqual(before);
    expect(after).toEqual({ state: { balance: 20, entries: 8 }, version: 8 });
    expect(store.reads.at(-1)).toBe('ledger-a@7');
    expect(runtime.stats().activations).toBe(2);
  });

  it('ignores a snapshot of another revision and replays the stream', async () => {
    const { runtime, store, snapshots } = harness();
    for (const amount of [1, 2, 3]) await runtime.get(ledger, acme, 'a').ask(deposit('a', amount));
    await tick();
    expect(snapshots.size).toBe(1);

    const revised = defineGrain({ category: 'ledger', decider: ledgerDecider, snapshotRevision: 2 });
    const { runtime: upgraded } = harness({}, { store, snapshots });

    expect((await upgraded.read(revised, acme, 'a')).state).toEqual({ balance: 6, entries: 3 });
    expect(store.reads.at(-1)).toBe('ledger-a@1');
  });

  it('does not passivate a grain used recently or one that is busy', async () => {
    const { runtime, store, advance } = harness();
    await runtime.get(ledger, acme, 'idle').ask(deposit('idle', 1));
    const release = store.hold(stream('busy'));
    const busy = runtime.get(ledger, acme, 'busy').ask(deposit('busy', 1));
    advance(1000);
    await runtime.get(ledger, acme, 'recent').ask(deposit('recent', 1));

    expect(runtime.passivateIdle()).toBe(1); // only 'idle'
    release();
    await busy;
    expect(runtime.stats().active).toBe(2);
  });

  it('keeps at most maxActive grains, dropping the least recently used idle one', async () => {
    const { runtime, store } = harness({ maxActive: 2 });
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 1));
    await runtime.get(ledger, acme, 'b').ask(deposit('b', 1));
    await runtime.read(ledger, acme, 'a'); // now 'b' is the least recently used
    await runtime.get(ledger, acme, 'c').ask(deposit('c', 1));

    expect(runtime.stats()).toMatchObject({ active: 2, passivations: 1 });
    const loads = store.reads.length;
    await runtime.read(ledger, acme, 'a');
    expect(store.reads.length).toBe(loads); // 'a' stayed in memory
    await runtime.read(ledger, acme, 'b');
    expect(store.reads.slice(loads)).toEqual(['ledger-b@1']); // 'b' was dropped and reloads
  });

  it('never evicts a busy grain, and trims back to the bound once they are idle', async () => {
    const { runtime, store } = harness({ maxActive: 1 });
    const releaseA = store.hold(stream('a'));
    const releaseB = store.hold(stream('b'));
    const a = runtime.get(ledger, acme, 'a').ask(deposit('a', 1));
    const b = runtime.get(ledger, acme, 'b').ask(deposit('b', 2));
    await tick();

    expect(runtime.stats()).toMatchObject({ active: 2, passivations: 0 });
    releaseA();
    releaseB();
    expect((await a).state.balance).toBe(1);
    expect((await b).state.balance).toBe(2);
    await tick();
    expect(runtime.stats()).toMatchObject({ active: 1, passivations: 1 });
  });

  it('reports a state that is not JSON instead of saving a broken snapshot', async () => {
    const withDate = defineGrain({
      category: 'dated',
      snapshotEvery: 1,
      decider: {
        initialState: () => ({ at: new Date(0) }),
        decide: () => [{ type: 'Touched', data: {} }],
        evolve: (state) => state,
      },
    });
    const { runtime, snapshots, errors } = harness();
    await runtime.get(withDate, acme, 'x').ask({});
    await tick();
    expect(snapshots.size).toBe(0);
    expect(String(errors[0])).toMatch(/not JSON at \$\.state\.at.*codec/);
  });
});

describe('grain runtime: conflicts with other writers', () => {
  it('reloads and retries once when another process wrote the stream', async () => {
    const first = harness();
    const second = harness({}, { store: first.store, snapshots: first.snapshots });
    await first.runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    await second.runtime.get(ledger, acme, 'a').ask(deposit('a', 5));

    const answer = await first.runtime.get(ledger, acme, 'a').ask(deposit('a', 1));

    expect(answer).toMatchObject({ version: 3, state: { balance: 16, entries: 3 } });
    expect(first.runtime.stats().conflicts).toBe(1);
    const stored = await first.store.inner.readStream(acme, stream('a'));
    expect(stored.map((event: RecordedEvent) => event.data)).toEqual([
      { amount: 10 },
      { amount: 5 },
      { amount: 1 },
    ]);
  });

  it('decides again on the reloaded state, so a rule can refuse the retry', async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    await store.inner.append(acme, stream('a'), [{ type: 'Withdrew', data: { amount: 10 } }], {
      expectedVersion: 1,
    });

    await expect(runtime.get(ledger, acme, 'a').ask(withdraw('a', 10))).rejects.toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
    });
  });

  it('reports a conflict when the stream keeps changing under the command', async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    let attempts = 0;
    store.beforeAppend = async (id) => {
      attempts += 1;
      await store.inner.append(acme, id, [{ type: 'Deposited', data: { amount: 1 } }], {
        expectedVersion: 'any',
      });
    };

    const refused = runtime.get(ledger, acme, 'a').ask(deposit('a', 1));

    await expect(refused).rejects.toBeInstanceOf(GrainConflictError);
    await expect(refused).rejects.toMatchObject({ code: 'GRAIN_CONFLICT' });
    expect(attempts).toBe(2);
    expect(runtime.stats().conflicts).toBe(2);
    store.beforeAppend = undefined;
    expect((await runtime.get(ledger, acme, 'a').ask(deposit('a', 1))).state).toEqual({
      balance: 13,
      entries: 4,
    });
  });

  it('looks at the stream again after an append failed for another reason', async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    // The write went through but its answer was lost, as with a timeout.
    store.afterAppend = () => {
      throw new Error('connection reset');
    };
    await expect(runtime.get(ledger, acme, 'a').ask(deposit('a', 5))).rejects.toThrow('connection reset');
    store.afterAppend = undefined;

    expect((await runtime.read(ledger, acme, 'a')).state).toEqual({ balance: 15, entries: 2 });
    expect(runtime.stats().conflicts).toBe(0);
  });
});

describe('grain runtime: closing', () => {
  it('finishes queued commands, then refuses new ones', async () => {
    const { runtime, store } = harness();
    const release = store.hold(stream('a'));
    const queued = [1, 2, 3].map((amount) => runtime.get(ledger, acme, 'a').ask(deposit('a', amount)));
    const closing = runtime.close();
    release();
    await closing;

    expect((await Promise.all(queued)).map((answer) => answer.version)).toEqual([1, 2, 3]);
    await expect(runtime.get(ledger, acme, 'a').ask(deposit('a', 1))).rejects.toBeInstanceOf(
      GrainRuntimeClosedError,
    );
    expect(runtime.stats().active).toBe(0);
  });
});

describe('grain runtime: commands to several instances at once (askTogether)', () => {
  it("decides each instance's commands in order on the state the previous one left, and commits them together", async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 5));

    const results = await runtime.askTogether(ledger, acme, [
      { id: 'a', commands: [deposit('a', 10), withdraw('a', 12), withdraw('a', 10)] },
      { id: 'b', commands: [deposit('b', 1)] },
    ]);

    expect(results.map((result) => [result.id, result.baseVersion, result.version])).toEqual([
      ['a', 1, 3],
      ['b', 0, 1],
    ]);
    const [a] = results;
    expect(
      a!.outcomes.map((outcome) => (outcome.ok ? outcome.events.map((e) => e.version) : 'refused')),
    ).toEqual([[2], [3], 'refused']);
    const refusal = a!.outcomes[2]!;
    expect(refusal.ok ? null : refusal.error).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(a!.state).toEqual({ balance: 3, entries: 3 });
    // The activations moved on with what was written: the next command sees it.
    expect((await runtime.get(ledger, acme, 'a').ask(deposit('a', 1))).version).toBe(4);
    const log = (await store.inner.readAll(acme, '0:0' as never, 100)).events.map((e) => e.streamId);
    expect(log).toEqual([stream('a'), stream('a'), stream('a'), stream('b'), stream('a')]);
  });

  it('writes nothing, and leaves every activation as the store has it, when one stream keeps moving elsewhere', async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    await runtime.get(ledger, acme, 'b').ask(deposit('b', 10));
    let moves = 0;
    store.beforeAppend = async (id) => {
      // Another process writes b before every attempt: the joint append cannot win.
      if (id !== stream('b')) return;
      moves += 1;
      await store.inner.append(acme, id, [{ type: 'Deposited', data: { amount: 1 } }], {
        expectedVersion: 'any',
      });
    };

    const joint = runtime.askTogether(ledger, acme, [
      { id: 'a', commands: [withdraw('a', 10)] },
      { id: 'b', commands: [withdraw('b', 10)] },
    ]);

    await expect(joint).rejects.toBeInstanceOf(GrainConflictError);
    expect(moves).toBe(2);
    store.beforeAppend = undefined;
    expect(await store.inner.streamVersion(acme, stream('a'))).toBe(1);
    expect((await runtime.read(ledger, acme, 'a')).state).toEqual({ balance: 10, entries: 1 });
    expect((await runtime.read(ledger, acme, 'b')).state).toEqual({ balance: 12, entries: 3 });
  });

  it("holds every instance's turn until the commit: a command sent meanwhile runs after it and sees it", async () => {
    const { runtime, store } = harness();
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    const release = store.hold(stream('b'));
    const joint = runtime.askTogether(ledger, acme, [
      { id: 'a', commands: [withdraw('a', 10)] },
      { id: 'b', commands: [deposit('b', 1)] },
    ]);
    await tick(5);
    const meanwhile = runtime.get(ledger, acme, 'a').ask(withdraw('a', 1));
    release();

    await joint;
    await expect(meanwhile).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
  });

  it('never deadlocks: joint asks naming the same instances in opposite orders all finish', async () => {
    const { runtime, store } = harness();
    store.afterAppend = () => tick(Math.random() * 2);
    const asks = Array.from({ length: 12 }, (_, i) => {
      const ids = i % 2 === 0 ? ['x', 'y', 'z'] : ['z', 'y', 'x'];
      return runtime.askTogether(
        ledger,
        acme,
        ids.map((id) => ({ id, commands: [deposit(id, 1)] })),
      );
    });
    const single = Array.from({ length: 12 }, (_, i) =>
      runtime.get(ledger, acme, ['x', 'y', 'z'][i % 3]!).ask(deposit('x', 1)),
    );

    await Promise.all([...asks, ...single]);
    for (const id of ['x', 'y', 'z']) {
      expect((await runtime.read(ledger, acme, id)).state.balance).toBe(16);
    }
  });

  it('keeps one activation per instance even when the bound passivates while it waits for a turn', async () => {
    const { runtime, store } = harness({ maxActive: 1 });
    await runtime.get(ledger, acme, 'a').ask(deposit('a', 10));
    const releaseA = store.hold(stream('a'));
    const busy = runtime.get(ledger, acme, 'a').ask(deposit('a', 1));
    const joint = runtime.askTogether(ledger, acme, [
      { id: 'a', commands: [withdraw('a', 5)] },
      { id: 'b', commands: [deposit('b', 1)] },
    ]);
    await tick(5);
    // Over the bound while the joint ask waits for a's turn: idle activations are passivated.
    await runtime.get(ledger, acme, 'c').ask(deposit('c', 1));
    // A command to b, its append held: b is busy until it commits.
    const releaseB = store.hold(stream('b'));
    const other = runtime.get(ledger, acme, 'b').ask(deposit('b', 2));
    await tick(5);
    releaseA();
    await tick(5);
    releaseB();
    await Promise.all([busy, joint, other]);

    // The joint ask waited for b's turn in the one activation of b, so it decided on b's latest
    // state: a second activation would have decided beside the first and lost the append.
    expect(runtime.stats().conflicts).toBe(0);
    expect((await runtime.read(ledger, acme, 'b')).state).toEqual({ balance: 3, entries: 2 });
    expect((await runtime.read(ledger, acme, 'a')).state).toEqual({ balance: 6, entries: 3 });
  });

  it('appends nothing when no command decides anything, and refuses an instance named twice', async () => {
    const { runtime, store } = harness();
    const results = await runtime.askTogether(ledger, acme, [
      { id: 'a', commands: [{ type: 'Audit', account: 'a' }, withdraw('a', 1)] },
    ]);
    expect(results[0]!.outcomes.map((outcome) => outcome.ok)).toEqual([true, false]);
    expect(await store.inner.streamVersion(acme, stream('a'))).toBe(0);
    await expect(
      runtime.askTogether(ledger, acme, [
        { id: 'a', commands: [deposit('a', 1)] },
        { id: 'a', commands: [deposit('a', 2)] },
      ]),
    ).rejects.toThrow(/twice/);
  });
});
