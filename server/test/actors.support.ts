import { DomainError, tenantId } from '@parley/domain';
import type { Decider, DomainEvent, StreamId } from '@parley/domain';
import { createGrainRuntime, createMemorySnapshotStore, defineGrain } from '../src/actors';
import type { GrainRuntime, GrainRuntimeOptions, MemorySnapshotStore } from '../src/actors';
import { createLocalBroadcast } from '../src/broadcast';
import type { LocalBroadcast } from '../src/broadcast';
import { createMemoryEventStore } from '../src/store/memory';
import type { EventStore } from '../src/store/types';

/** A toy ledger: the commands carry everything the decider needs, as the domain's do. */
export type LedgerCommand =
  | { readonly type: 'Deposit'; readonly account: string; readonly amount: number }
  | { readonly type: 'Withdraw'; readonly account: string; readonly amount: number }
  | { readonly type: 'Audit'; readonly account: string };

export type LedgerEvent =
  DomainEvent<'Deposited', { amount: number }> | DomainEvent<'Withdrew', { amount: number }>;

export interface LedgerState {
  readonly balance: number;
  readonly entries: number;
}

export const ledgerDecider: Decider<LedgerCommand, LedgerState, LedgerEvent> = {
  initialState: () => ({ balance: 0, entries: 0 }),
  decide(command, state) {
    switch (command.type) {
      case 'Deposit':
        if (command.amount <= 0) throw new DomainError('AMOUNT_NOT_POSITIVE', 'deposit a positive amount');
        return [{ type: 'Deposited', data: { amount: command.amount } }];
      case 'Withdraw':
        if (command.amount > state.balance) throw new DomainError('INSUFFICIENT_FUNDS', 'not enough money');
        return [{ type: 'Withdrew', data: { amount: command.amount } }];
      case 'Audit':
        return [];
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'Deposited':
        return { balance: state.balance + event.data.amount, entries: state.entries + 1 };
      case 'Withdrew':
        return { balance: state.balance - event.data.amount, entries: state.entries + 1 };
      default:
        return unreachable(event);
    }
  },
};

function unreachable(value: never): never {
  throw new TypeError(`unexpected ${JSON.stringify(value)}`);
}

export const ledger = defineGrain({
  category: 'ledger',
  decider: ledgerDecider,
  snapshotEvery: 3,
  toTopics: (event) => [{ kind: 'board', tenantId: event.tenantId, id: event.streamId }],
});

export const acme = tenantId('acme');

export const deposit = (account: string, amount: number): LedgerCommand => ({
  type: 'Deposit',
  account,
  amount,
});
export const withdraw = (account: string, amount: number): LedgerCommand => ({
  type: 'Withdraw',
  account,
  amount,
});

/** A promise and the function that resolves it. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An event store whose calls can be held, delayed or observed per stream. */
export interface InstrumentedStore extends EventStore {
  readonly inner: EventStore;
  /** `readStream` calls so far, as `<stream>@<fromVersion>`. */
  readonly reads: string[];
  /** Appends to the stream wait for the returned release. */
  hold(streamId: StreamId): () => void;
  /** Runs before every append reaches the store. */
  beforeAppend?: (streamId: StreamId) => Promise<void> | void;
  /** Runs after every append committed, before its caller hears of it. */
  afterAppend?: (streamId: StreamId) => Promise<void> | void;
}

export function instrument(inner: EventStore): InstrumentedStore {
  const holds = new Map<StreamId, Promise<void>>();
  const store: InstrumentedStore = {
    inner,
    reads: [],
    kind: inner.kind,
    hold(streamId) {
      const gate = deferred();
      holds.set(streamId, gate.promise);
      return () => {
        holds.delete(streamId);
        gate.resolve();
      };
    },
    async append(tenant, streamId, events, options) {
      await holds.get(streamId);
      await store.beforeAppend?.(streamId);
      const result = await inner.append(tenant, streamId, events, options);
      await store.afterAppend?.(streamId);
      return result;
    },
    async appendAtomically(appends, options) {
      for (const { streamId } of appends) {
        await holds.get(streamId);
        await store.beforeAppend?.(streamId);
      }
      const results = await inner.appendAtomically(appends, options);
      for (const { streamId } of appends) await store.afterAppend?.(streamId);
      return results;
    },
    readStream(tenant, streamId, options) {
      store.reads.push(`${streamId}@${options?.fromVersion ?? 1}`);
      return inner.readStream(tenant, streamId, options);
    },
    streamVersion: (tenant, streamId) => inner.streamVersion(tenant, streamId),
    readAll: (tenant, after, limit) => inner.readAll(tenant, after, limit),
    readAllTenants: (after, limit) => inner.readAllTenants(after, limit),
    subscribe: (options) => inner.subscribe(options),
    close: () => inner.close(),
  };
  return store;
}

/** A runtime on memory doubles, with a clock the test moves. */
export interface Harness {
  readonly runtime: GrainRuntime;
  readonly store: InstrumentedStore;
  readonly snapshots: MemorySnapshotStore;
  readonly broadcast: LocalBroadcast;
  readonly errors: unknown[];
  readonly advance: (ms: number) => void;
}

export function harness(options: Partial<GrainRuntimeOptions> = {}, base?: Partial<Harness>): Harness {
  let now = 0;
  const store = base?.store ?? instrument(createMemoryEventStore());
  const snapshots = base?.snapshots ?? createMemorySnapshotStore();
  const broadcast = base?.broadcast ?? createLocalBroadcast();
  const errors: unknown[] = [];
  const runtime = createGrainRuntime({
    store,
    snapshots,
    broadcast,
    clock: () => now,
    sweepEveryMs: 0,
    idleAfterMs: 1000,
    onError: (error) => errors.push(error),
    ...options,
  });
  return {
    runtime,
    store,
    snapshots,
    broadcast,
    errors,
    advance: (ms) => {
      now += ms;
    },
  };
}
