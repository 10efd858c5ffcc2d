import type { Checkpoint, JsonObject, JsonValue, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import { formatCheckpoint, parseCheckpoint } from './checkpoint';
import { ConcurrencyError } from './errors';
import type {
  AppendOptions,
  AppendResult,
  AtomicAppendOptions,
  EventStore,
  NewEvent,
  ReadAllResult,
  ReadStreamOptions,
  StreamAppend,
  SubscribeOptions,
} from './types';
import { assertStreamId, assertTenantId, prepareAppend, prepareAtomicAppend } from './validation';
import { InvalidAppendError } from './errors';

/** Options of the in-memory event store. */
export interface MemoryEventStoreOptions {
  /** Stamps `recordedAt`; defaults to `Date.now`. */
  readonly clock?: () => number;
}

/** The most events one `readAll` returns, as in the SQL store. */
const MAX_READ_LIMIT = 10_000;

interface Stream {
  readonly events: RecordedEvent[];
  readonly appendsByKey: Map<string, AppendResult>;
}

/**
 * An `EventStore` held in one process's memory: the test double and the reference behaviour for
 * the contract suite. Every event is written in transaction 0, so checkpoints read `0:<position>`.
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const clock = options.clock ?? Date.now;
  /** The global log; the event at index i has position i + 1. */
  const log: RecordedEvent[] = [];
  /** Each tenant's log positions, ascending, so a tenant read skips other tenants' events. */
  const positionsByTenant = new Map<TenantId, number[]>();
  const streams = new Map<string, Stream>();
  const waiters = new Set<() => void>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('the memory event store is closed');
  }

  function wakeWaiters(): void {
    for (const wake of [...waiters]) wake();
  }

  function append(
    tenantId: TenantId,
    streamId: StreamId,
    events: readonly NewEvent[],
    appendOptions: AppendOptions,
  ): Promise<AppendResult> {
    return settle(() => appendNow(tenantId, streamId, events, appendOptions));
  }

  function appendAtomically(
    appends: readonly StreamAppend[],
    atomicOptions: AtomicAppendOptions = {},
  ): Promise<AppendResult[]> {
    return settle(() => {
      assertOpen();
      if (atomicOptions.withinTransaction) {
        throw new InvalidAppendError(
          'withinTransaction needs a SQL event store; the memory store has no transaction',
        );
      }
      prepareAtomicAppend(appends);
      // Every check before the first write, so a refusal leaves every stream as it was.
      for (const { tenantId, streamId, expectedVersion } of appends) {
        const current = streams.get(`${tenantId}/${streamId}`)?.events.length ?? 0;
        const expected = expectedVersion === 'no_stream' ? 0 : expectedVersion;
        if (expected !== current) throw new ConcurrencyError(tenantId, streamId, expectedVersion, current);
      }
      return appends.map(({ tenantId, streamId, events, expectedVersion }) =>
        appendNow(tenantId, streamId, events, { expectedVersion }),
      );
    });
  }

  function appendNow(
    tenantId: TenantId,
    streamId: StreamId,
    events: readonly NewEvent[],
    { expectedVersion, idempotencyKey, withinTransaction }: AppendOptions,
  ): AppendResult {
    assertOpen();
    if (withinTransaction) {
      throw new InvalidAppendError(
        'withinTransaction needs a SQL event store; the memory store has no transaction',
      );
    }
    // The SQL store's own checks, so both refuse exactly the same appends.
    const prepared = prepareAppend(tenantId, streamId, events, { expectedVersion, idempotencyKey });
    const streamKey = `${tenantId}/${streamId}`;
    const stream = streams.get(streamKey) ?? { events: [], appendsByKey: new Map<string, AppendResult>() };

    if (idempotencyKey !== undefined) {
      const original = stream.appendsByKey.get(idempotencyKey);
      // The key wins over the version check: a retry of a committed append must not fail.
      if (original) return { ...original, duplicate: true };
    }

    const current = stream.events.length;
    if (expectedVersion === 'no_stream' && current !== 0) {
      throw new ConcurrencyError(tenantId, streamId, 'no_stream', current);
    }
    if (typeof expectedVersion === 'number' && expectedVersion !== current) {
      throw new ConcurrencyError(tenantId, streamId, expectedVersion, current);
    }

    const recordedAt = clock();
    const tenantPositions = positionsByTenant.get(tenantId) ?? [];
    const recorded = prepared.map((event, index): RecordedEvent => {
      const position = log.length + 1;
      const record = deepFreeze<RecordedEvent>({
        tenantId,
        streamId,
        version: current + index + 1,
        eventId: event.eventId,
        type: event.type,
        // Its own copy, parsed from the JSON the SQL store would have stored.
        data: JSON.parse(event.dataJson) as JsonObject,
        metadata: JSON.parse(event.metadataJson) as JsonObject,
        recordedAt,
        checkpoint: formatCheckpoint(0n, BigInt(position)),
      });
      log.push(record);
      tenantPositions.push(position);
      stream.events.push(record);
      return record;
    });
    positionsByTenant.set(tenantId, tenantPositions);
    streams.set(streamKey, stream);

    const result: AppendResult = {
      tenantId,
      streamId,
      firstVersion: current + 1,
      nextExpectedVersion: stream.events.length,
      checkpoint: recorded[recorded.length - 1]!.checkpoint,
      duplicate: false,
      events: Object.freeze(recorded),
    };
    if (idempotencyKey !== undefined) stream.appendsByKey.set(idempotencyKey, result);
    wakeWaiters();
    return result;
  }

  function readStreamNow(
    tenantId: TenantId,
    streamId: StreamId,
    options: ReadStreamOptions = {},
  ): RecordedEvent[] {
    assertOpen();
    assertTenantId(tenantId);
    assertStreamId(streamId);
    const { limit } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new RangeError(`limit must be a whole number >= 0, got ${String(limit)}`);
    }
    const events = streams.get(`${tenantId}/${streamId}`)?.events ?? [];
    const from = Math.max(1, options.fromVersion ?? 1) - 1;
    return events.slice(from, limit === undefined ? undefined : from + limit);
  }

  function readAllNow(tenantId: TenantId | undefined, after: Checkpoint, limit: number): ReadAllResult {
    assertOpen();
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
      throw new RangeError(`limit must be a whole number from 1 to ${MAX_READ_LIMIT}, got ${String(limit)}`);
    }
    const afterPosition = positionOf(after);
    let events: RecordedEvent[];
    if (tenantId === undefined) {
      events = log.slice(afterPosition, afterPosition + limit);
    } else {
      assertTenantId(tenantId);
      const positions = positionsByTenant.get(tenantId) ?? [];
      const start = firstGreaterThan(positions, afterPosition);
      events = positions.slice(start, start + limit).map((position) => log[position - 1]!);
    }
    return { events, next: events.length === 0 ? after : events[events.length - 1]!.checkpoint };
  }

  /** Resolves on the next append, on close, or when the signal aborts. */
  function nextChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  async function* subscribe({ tenantId, after, signal, batchSize = 500 }: SubscribeOptions) {
    if (tenantId !== undefined) assertTenantId(tenantId);
    let cursor = after;
    while (!closed && !signal?.aborted) {
      const seen = log.length;
      const page = readAllNow(tenantId, cursor, batchSize);
      for (const event of page.events) {
        if (closed || signal?.aborted) return;
        yield event;
        cursor = event.checkpoint;
      }
      // Appends made while the consumer held an event were already counted; wait only when idle.
      if (page.events.length < batchSize && log.length === seen) await nextChange(signal);
    }
  }

  return {
    kind: 'memory',
    append,
    appendAtomically,
    readStream: (tenantId, streamId, options) => settle(() => readStreamNow(tenantId, streamId, options)),
    streamVersion: (tenantId, streamId) =>
      settle(() => {
        assertOpen();
        assertTenantId(tenantId);
        assertStreamId(streamId);
        return streams.get(`${tenantId}/${streamId}`)?.events.length ?? 0;
      }),
    readAll: (tenantId, after, limit) => settle(() => readAllNow(tenantId, after, limit)),
    readAllTenants: (after, limit) => settle(() => readAllNow(undefined, after, limit)),
    subscribe,
    close: () => {
      closed = true;
      wakeWaiters();
      return Promise.resolve();
    },
  };
}

/** Settles like a call over a network would: even a refusal arrives as a rejected promise. */
function settle<T>(operation: () => T): Promise<T> {
  return new Promise((resolve) => resolve(operation()));
}

/** How many log positions lie at or before a checkpoint; the memory store writes only in transaction 0. */
function positionOf(checkpoint: Checkpoint): number {
  const { tx, position } = parseCheckpoint(checkpoint);
  if (tx > 0n || position > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(position);
}

/** Index of the first element greater than `value` in an ascending array. */
function firstGreaterThan(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Freezes a record and everything in it, so a reader cannot change what another reader sees. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value) as JsonValue[]) deepFreeze(item);
  }
  return value;
}
