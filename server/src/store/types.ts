import type { Checkpoint, JsonObject, JsonValue, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import type { SqlQueryable } from '../db/driver';

/** An event to append. `eventId` defaults to a fresh UUID; `metadata` to `{}`. */
export interface NewEvent {
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata?: JsonObject;
  readonly eventId?: string;
}

/**
 * What the stream's version must be for an append to succeed: a number (0 = the stream has no
 * events yet), `'no_stream'` (same as 0), or `'any'` (no check).
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

export interface AppendOptions {
  readonly expectedVersion: ExpectedVersion;
  /** An append carrying a key already used on this stream returns the first result and writes nothing. */
  readonly idempotencyKey?: string;
  /**
   * More writes that must commit with the events or not at all (an outbox row, a client's sequence),
   * run inside the append's transaction once its events are written. Throwing aborts the append.
   * SQL stores only; it does not run for a duplicate.
   */
  readonly withinTransaction?: (tx: SqlQueryable, appended: TransactionalAppend) => Promise<void>;
}

/** What `withinTransaction` learns about the append it belongs to. */
export interface TransactionalAppend {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  readonly events: readonly RecordedEvent[];
}

/** One stream's part of an atomic append across streams (`EventStore.appendAtomically`). */
export interface StreamAppend {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  readonly events: readonly NewEvent[];
  /** A number (0 = no stream yet) or `'no_stream'`: an atomic append always checks its streams. */
  readonly expectedVersion: Exclude<ExpectedVersion, 'any'>;
}

export interface AtomicAppendOptions {
  /**
   * More writes that must commit with all the streams' events, run inside the transaction once
   * they are written (SQL stores only). Throwing aborts the whole append.
   */
  readonly withinTransaction?: (tx: SqlQueryable, appended: readonly TransactionalAppend[]) => Promise<void>;
}

export interface AppendResult {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  /** Version of the first event appended (or, for a duplicate, first appended originally). */
  readonly firstVersion: number;
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  readonly nextExpectedVersion: number;
  /** Checkpoint of the last appended event. */
  readonly checkpoint: Checkpoint;
  /** True when this append repeated an idempotency key and nothing new was written. */
  readonly duplicate: boolean;
  readonly events: readonly RecordedEvent[];
}

export interface ReadStreamOptions {
  /** First version to return (inclusive). Defaults to 1. */
  readonly fromVersion?: number;
  /** At most this many events. Defaults to all. */
  readonly limit?: number;
}

export interface ReadAllResult {
  readonly events: readonly RecordedEvent[];
  /** Pass back as `after` to continue; equals `after` when nothing new is committed. */
  readonly next: Checkpoint;
}

export interface SubscribeOptions {
  /** Only this tenant's events; omit only in system processes (projections, relays). */
  readonly tenantId?: TenantId;
  /** Start after this checkpoint; `START` for the beginning of the log. */
  readonly after: Checkpoint;
  readonly signal?: AbortSignal;
  /** Events read per page while catching up. */
  readonly batchSize?: number;
}

/** The event store's contract; `test/store.contract.ts` holds it to this for every implementation. */
export interface EventStore {
  readonly kind: 'pglite' | 'postgres' | 'memory';
  /**
   * How many commits other processes have announced (PostgreSQL's NOTIFY); caches above the store
   * re-read what they hold when it changes. Undefined: this store has no other writers.
   */
  readonly foreignCommits?: number;
  /** Calls `listener` after each commit another process announces; returns the way to stop. */
  onForeignCommit?(listener: () => void): () => void;
  append(
    tenantId: TenantId,
    streamId: StreamId,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult>;
  /**
   * Appends to several distinct streams in one transaction: every stream's events commit, or none
   * do. A stream not at its expected version fails the whole append with a `ConcurrencyError`.
   * Results come in the order of `appends`.
   */
  appendAtomically(appends: readonly StreamAppend[], options?: AtomicAppendOptions): Promise<AppendResult[]>;
  readStream(tenantId: TenantId, streamId: StreamId, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The stream's current version, 0 when it has no events. */
  streamVersion(tenantId: TenantId, streamId: StreamId): Promise<number>;
  /** One tenant's committed events after a checkpoint, in global order, never skipping one. */
  readAll(tenantId: TenantId, after: Checkpoint, limit: number): Promise<ReadAllResult>;
  /** Every tenant's events: for system processes only (projections, broadcast relays). */
  readAllTenants(after: Checkpoint, limit: number): Promise<ReadAllResult>;
  /** Catches up from the store, then follows new commits; ends when `signal` aborts. */
  subscribe(options: SubscribeOptions): AsyncIterable<RecordedEvent>;
  close(): Promise<void>;
}
