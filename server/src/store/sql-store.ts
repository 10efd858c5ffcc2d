import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Checkpoint, JsonObject, JsonValue, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import type { Database } from '../db/database';
import type { StoreCodec } from '../crypto/event-codec';
import { isConnectionLost, type SqlQueryable } from '../db/driver';
import { addDays, ensurePartitions, utcDay } from '../db/partitions';
import { ArchiveReader } from './archive';
import { compareCheckpoints, formatCheckpoint, parseCheckpoint, START } from './checkpoint';
import { ConcurrencyError, InvalidAppendError } from './errors';
import { HotTier } from './hot-tier';
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
import {
  assertStreamId,
  assertTenantId,
  prepareAppend,
  prepareAtomicAppend,
  type PreparedEvent,
} from './validation';
import {
  activeSpanContext,
  currentTraceparent,
  inSpan,
  ROOT_CONTEXT,
  TRACEPARENT,
  type SpanContext,
} from '../ops/tracing';

export interface SqlEventStoreOptions {
  readonly db: Database;
  /** Where archived day partitions are kept (DATA_DIR/archive). */
  readonly archiveDir: string;
  /** Wall clock in epoch ms; tests pass their own to place events on a chosen day. */
  readonly clock?: () => number;
  /** The most appends one group commit takes. */
  readonly maxBatch?: number;
  /** Group-commit transactions in flight at once (PGlite always runs one). */
  readonly maxInFlight?: number;
  /** Hot tier bound, in events across all streams. */
  readonly hotTierEvents?: number;
  /** How often a subscriber looks for commits it was not told about (other processes). */
  readonly pollIntervalMs?: number;
  /** How long a woken subscriber waits for more commits before it reads (one read for several). */
  readonly gatherMs?: number;
  /** Days of partitions kept ready ahead of today. */
  readonly partitionsAhead?: number;
  /** Seals personal data on its way to the database and opens it on the way back (decision 0022). */
  readonly codec?: StoreCodec;
}

interface PendingAppend {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  readonly key: string;
  readonly events: readonly PreparedEvent[];
  readonly options: AppendOptions;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
  /** The caller's span, which the group commit's span links to (decision 0039). */
  readonly trace?: SpanContext;
}

type Outcome =
  | { readonly kind: 'written'; readonly request: PendingAppend; readonly result: AppendResult }
  | {
      readonly kind: 'duplicate';
      readonly request: PendingAppend;
      readonly firstVersion: number;
      readonly lastVersion: number;
      readonly checkpoint: Checkpoint;
    }
  | {
      readonly kind: 'conflict';
      readonly request: PendingAppend;
      readonly actualVersion: number | undefined;
    };

interface EventRow {
  tenant_id: string;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: JsonValue;
  metadata: JsonObject;
  recorded_at: Date;
  tx: string;
  pos: string;
}

const EVENT_COLUMNS = `tenant_id, stream_id, version, event_id::text AS event_id, type, data, metadata,
  recorded_at, tx_id::text AS tx, position::text AS pos`;

/** Every row older than this snapshot's xmin belongs to a finished transaction. */
const VISIBLE = 'tx_id < pg_snapshot_xmin(pg_current_snapshot())';

const NOTIFY_CHANNEL = 'parley_events';

/**
 * The event store on PostgreSQL or PGlite. Reads go through Prisma Client; appends from concurrent
 * callers are grouped into one transaction (group commit) written through the driver underneath
 * Prisma (docs/decisions/0005-group-commit.md); docs/ARCHITECTURE.md has the whole design.
 */
export class SqlEventStore implements EventStore {
  readonly kind: 'pglite' | 'postgres';
  readonly hot: HotTier;
  readonly archive: ArchiveReader;
  private readonly db: Database;
  private readonly clock: () => number;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly pollIntervalMs: number;
  private readonly gatherMs: number;
  private readonly partitionsAhead: number;
  private readonly codec: StoreCodec | undefined;
  /** Per stream, the seal of its latest append: the next one waits for it (order kept). */
  private readonly sealing = new Map<string, Promise<void>>();
  private readonly queue: PendingAppend[] = [];
  private readonly busyStreams = new Set<string>();
  private readonly commits = new EventEmitter();
  private commitSeq = 0;
  /** The NOTIFY payload of this store's commits, so it can tell other processes' from its own. */
  private readonly notifyTag = randomUUID();
  /** Commits announced by other processes (PostgreSQL), for caches above the store. */
  foreignCommits = 0;
  private inFlight = 0;
  private closed = false;
  private stopListening: (() => Promise<void>) | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  /** Group-commit statistics, for the benchmark and the health query. */
  readonly stats = { batches: 0, appends: 0, events: 0, largestBatch: 0, connectionsLost: 0 };
  /** Told of each group commit's size and duration in seconds, for `/metrics` (server/src/ops). */
  onBatch: ((size: number, seconds: number) => void) | undefined;

  private constructor(options: SqlEventStoreOptions) {
    this.db = options.db;
    this.kind = options.db.kind;
    this.clock = options.clock ?? Date.now;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxInFlight = this.kind === 'pglite' ? 1 : (options.maxInFlight ?? 2);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.gatherMs = options.gatherMs ?? 10;
    this.partitionsAhead = options.partitionsAhead ?? 7;
    this.codec = options.codec;
    this.hot = new HotTier(options.hotTierEvents);
    this.archive = new ArchiveReader(options.db, options.archiveDir);
    this.commits.setMaxListeners(0);
  }

  /** Opens the store on a migrated database and makes sure the coming days have partitions. */
  static async open(options: SqlEventStoreOptions): Promise<SqlEventStore> {
    const store = new SqlEventStore(options);
    await store.runMaintenance();
    store.maintenance = setInterval(() => {
      store.runMaintenance().catch(() => undefined); // retried next hour; appends self-heal meanwhile
    }, 3_600_000);
    store.maintenance.unref();
    if (store.kind === 'postgres') await store.listenForOtherProcesses();
    return store;
  }

  /** Creates partitions for today and the next `partitionsAhead` days (UTC). */
  async runMaintenance(): Promise<string[]> {
    return ensurePartitions(this.db.sql, utcDay(this.clock()), this.partitionsAhead + 1);
  }

  /**
   * With tracing on (decision 0039), in a span, and each event's metadata carries the writer's
   * `traceparent`, so whoever reads it later (a live stream) continues the same trace.
   */
  append(
    tenantId: TenantId,
    streamId: StreamId,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    const attributes = { 'parley.stream': streamId, 'parley.events': events.length };
    return inSpan('store.append', attributes, () => {
      const traceparent = currentTraceparent();
      const traced = traceparent
        ? events.map((event) => ({ ...event, metadata: { ...event.metadata, [TRACEPARENT]: traceparent } }))
        : events;
      return this.appendUntraced(tenantId, streamId, traced, options);
    });
  }

  private async appendUntraced(
    tenantId: TenantId,
    streamId: StreamId,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    if (this.closed) throw new Error('the event store is closed');
    const prepared = prepareAppend(tenantId, streamId, events, options);
    const key = streamKey(tenantId, streamId);
    const enqueue = (sealed: readonly PreparedEvent[]) =>
      new Promise<AppendResult>((resolve, reject) => {
        this.queue.push({
          tenantId,
          streamId,
          key,
          events: sealed,
          options,
          resolve,
          reject,
          trace: activeSpanContext(),
        });
        this.pump();
      });
    const codec = this.codec;
    if (!codec) return enqueue(prepared);
    // Sealed outside the group commit, so key look-ups overlap other writes; one stream's appends
    // still join the queue in the order they were made.
    const sealed = (this.sealing.get(key) ?? Promise.resolve()).then(() =>
      codec.encode(tenantId, streamId, prepared),
    );
    const result = sealed.then(enqueue);
    const turn = sealed.then(
      () => undefined,
      () => undefined,
    );
    this.sealing.set(key, turn);
    void turn.then(() => {
      if (this.sealing.get(key) === turn) this.sealing.delete(key);
    });
    return result;
  }

  /**
   * One transaction of its own, beside the group-commit queue: the streams' version checks, their
   * events and the caller's writes commit together. Another writer of one of the streams (in the
   * queue or in another process) meets the same version checks, so exactly one of them wins.
   */
  async appendAtomically(
    appends: readonly StreamAppend[],
    options: AtomicAppendOptions = {},
  ): Promise<AppendResult[]> {
    if (this.closed) throw new Error('the event store is closed');
    const prepared = prepareAtomicAppend(appends);
    const requests = appends.map((append, i): PendingAppend => ({
      tenantId: append.tenantId,
      streamId: append.streamId,
      key: streamKey(append.tenantId, append.streamId),
      events: prepared[i]!,
      options: { expectedVersion: append.expectedVersion },
      resolve: () => undefined,
      reject: () => undefined,
    }));
    this.inFlight++; // `close` waits for it like for a group commit
    try {
      const results = await this.writeAtomically(await this.encoded(requests), options);
      this.stats.batches++;
      for (const [i, result] of results.entries()) {
        this.stats.appends++;
        this.stats.events += result.events.length;
        this.hot.appended(requests[i]!.key, result.events);
      }
      this.announceCommit();
      return results;
    } catch (error) {
      if (error instanceof ConcurrencyError) this.hot.invalidate(streamKey(error.tenantId, error.streamId));
      throw error;
    } finally {
      this.inFlight--;
      this.pump();
    }
  }

  async readStream(
    tenantId: TenantId,
    streamId: StreamId,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    assertTenantId(tenantId);
    assertStreamId(streamId);
    const fromVersion = Math.max(1, options.fromVersion ?? 1);
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new RangeError(`limit must be a whole number >= 0, got ${String(limit)}`);
    }
    if (limit === 0) return [];
    const key = streamKey(tenantId, streamId);
    const cached = this.hot.read(key, fromVersion, limit);
    if (cached) return cached;

    const generation = this.hot.generation(key);
    const checked = this.hot.foreignCommitsSeen();
    const rows = await this.db.prisma.$queryRawUnsafe<EventRow[]>(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE tenant_id = $1 AND stream_id = $2 AND version >= $3
        ORDER BY version LIMIT $4`,
      tenantId,
      streamId,
      fromVersion,
      limit ?? null,
    );
    const live = rows.map(toRecorded);
    // SE: archived days may sit anywhere between live ones (a day restored in the middle), so the
    // archive is read across the whole range the live rows cover, and both are merged by version.
    // When the live rows filled the limit, no archived version above the last of them can be needed.
    const full = limit !== undefined && rows.length === limit;
    const archived = await this.archive.readStream(
      tenantId,
      streamId,
      fromVersion,
      full ? live.at(-1)!.version : undefined,
    );
    const merged = await this.decoded(
      archived.length === 0 ? live : [...archived, ...live].sort((a, b) => a.version - b.version),
    );
    const events = limit === undefined ? merged : merged.slice(0, limit);
    if (!full && merged.length === events.length)
      this.hot.rememberTail(key, generation, events.slice(-100), checked);
    return events;
  }

  async streamVersion(tenantId: TenantId, streamId: StreamId): Promise<number> {
    assertTenantId(tenantId);
    assertStreamId(streamId);
    const stream = await this.db.prisma.stream.findUnique({
      where: { tenantId_streamId: { tenantId, streamId } },
      select: { version: true },
    });
    return stream?.version ?? 0;
  }

  readAll(tenantId: TenantId, after: Checkpoint, limit: number): Promise<ReadAllResult> {
    assertTenantId(tenantId);
    return this.readLog(tenantId, after, limit);
  }

  readAllTenants(after: Checkpoint, limit: number): Promise<ReadAllResult> {
    return this.readLog(undefined, after, limit);
  }

  async *subscribe(options: SubscribeOptions): AsyncGenerator<RecordedEvent> {
    const { tenantId, signal } = options;
    if (tenantId !== undefined) assertTenantId(tenantId);
    const batchSize = options.batchSize ?? 500;
    let cursor = options.after;
    while (!signal?.aborted && !this.closed) {
      const seen = this.commitSeq;
      const page = await this.readLog(tenantId, cursor, batchSize);
      for (const event of page.events) {
        if (signal?.aborted) return;
        yield event;
      }
      cursor = page.next;
      if (page.events.length < batchSize) await this.nextCommit(seen, signal);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.maintenance);
    this.commits.emit('commit');
    while (this.inFlight > 0 || this.queue.length > 0 || this.sealing.size > 0)
      await new Promise((r) => setTimeout(r, 5));
    await this.stopListening?.();
  }

  // ---- reading the global log ----

  private async readLog(
    tenantId: TenantId | undefined,
    after: Checkpoint,
    limit: number,
  ): Promise<ReadAllResult> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new RangeError(`limit must be a whole number from 1 to 10000, got ${String(limit)}`);
    }
    const { tx, position } = parseCheckpoint(after);
    const scope = tenantId === undefined ? '' : 'tenant_id = $4 AND';
    const params: unknown[] = [tx.toString(), position.toString(), limit];
    if (tenantId !== undefined) params.push(tenantId);
    const rows = await this.db.prisma.$queryRawUnsafe<EventRow[]>(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE ${scope} (tx_id, position) > ($1::xid8, $2::bigint) AND ${VISIBLE}
        ORDER BY events.tx_id, events.position LIMIT $3`,
      ...params,
    );
    let events = rows.map(toRecorded);
    const archived = await this.archive.readAll(tenantId, after, limit);
    if (archived.length > 0) {
      events = [...archived, ...events]
        .sort((a, b) => compareCheckpoints(a.checkpoint, b.checkpoint))
        .slice(0, limit);
    }
    events = await this.decoded(events);
    return { events, next: events.at(-1)?.checkpoint ?? after };
  }

  private nextCommit(seen: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.commitSeq !== seen || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.commits.off('commit', woken);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // Commits come in runs under load: wait a moment so one read takes several of them.
      const woken = () => {
        this.commits.off('commit', woken);
        clearTimeout(timer);
        timer = setTimeout(done, this.closed ? 0 : this.gatherMs);
      };
      // Commits by other processes reach us through NOTIFY (PostgreSQL); the timer is the safety net.
      let timer = setTimeout(done, this.pollIntervalMs);
      this.commits.on('commit', woken);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes subscribers in other processes; a lost NOTIFY only delays them until their next poll. */
  private notifyOtherProcesses(): void {
    this.db.sql.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', $1)`, [this.notifyTag]).catch(() => undefined);
  }

  onForeignCommit(listener: () => void): () => void {
    this.commits.on('foreign', listener);
    return () => this.commits.off('foreign', listener);
  }

  /** What a transaction NOTIFYs with: PostgreSQL only (PGlite is one process). */
  private notifyTagFor(): string | undefined {
    return this.kind === 'postgres' ? this.notifyTag : undefined;
  }

  private announceCommit(): void {
    this.commitSeq++;
    this.commits.emit('commit');
  }

  private async listenForOtherProcesses(): Promise<void> {
    if (!this.db.listen) return;
    this.stopListening = await this.db.listen(NOTIFY_CHANNEL, (payload) => {
      // Another process's commit (or, after a reconnection, perhaps several): what this process
      // holds of the streams it wrote is checked against the database before it is used again.
      if (payload !== this.notifyTag) {
        this.hot.otherProcessCommitted();
        this.foreignCommits++;
        this.commits.emit('foreign');
      }
      this.announceCommit();
    });
  }

  // ---- group commit ----

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      this.inFlight++;
      const started = performance.now();
      // One span per transaction, linked to the appends it carries (they belong to other traces).
      const links = batch.flatMap((request) => (request.trace ? [{ context: request.trace }] : []));
      const committed = inSpan(
        'store.commit',
        { 'parley.batch.appends': batch.length },
        () => this.commitBatch(batch),
        { parent: ROOT_CONTEXT, links },
      );
      void committed.finally(() => {
        this.onBatch?.(batch.length, (performance.now() - started) / 1000);
        for (const request of batch) this.busyStreams.delete(request.key);
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The requests of an atomic append with their events' data sealed by the codec (decision 0022). */
  private async encoded(batch: PendingAppend[]): Promise<PendingAppend[]> {
    const codec = this.codec;
    if (!codec) return batch;
    return Promise.all(
      batch.map(async (request) => ({
        ...request,
        events: await codec.encode(request.tenantId, request.streamId, request.events),
      })),
    );
  }

  private decoded(events: RecordedEvent[]): Promise<RecordedEvent[]> | RecordedEvent[] {
    return this.codec ? this.codec.decode(events) : events;
  }

  /** Takes queued appends for distinct streams that no batch in flight is writing. */
  private takeBatch(): PendingAppend[] {
    const batch: PendingAppend[] = [];
    const rest: PendingAppend[] = [];
    const inBatch = new Set<string>();
    for (const request of this.queue) {
      // A second append to the same stream must see the first one's version: it waits a turn.
      if (batch.length < this.maxBatch && !inBatch.has(request.key) && !this.busyStreams.has(request.key)) {
        batch.push(request);
        inBatch.add(request.key);
        this.busyStreams.add(request.key);
      } else {
        rest.push(request);
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return batch;
  }

  private async commitBatch(batch: PendingAppend[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.writeWithRetries(batch);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One bad append must not fail its neighbours: write each alone to find it.
      for (const request of batch) await this.commitBatch([request]);
      return;
    }
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    let wrote = false;
    for (const outcome of outcomes) {
      const { request } = outcome;
      switch (outcome.kind) {
        case 'written':
          wrote = true;
          this.stats.appends++;
          this.stats.events += outcome.result.events.length;
          this.hot.appended(request.key, outcome.result.events);
          request.resolve(outcome.result);
          break;
        case 'duplicate':
          this.readStream(request.tenantId, request.streamId, {
            fromVersion: outcome.firstVersion,
            limit: outcome.lastVersion - outcome.firstVersion + 1,
          }).then(
            (events) =>
              request.resolve({
                tenantId: request.tenantId,
                streamId: request.streamId,
                firstVersion: outcome.firstVersion,
                nextExpectedVersion: outcome.lastVersion,
                checkpoint: outcome.checkpoint,
                duplicate: true,
                events,
              }),
            request.reject,
          );
          break;
        case 'conflict': {
          this.hot.invalidate(request.key);
          const expected = request.options.expectedVersion;
          request.reject(
            new ConcurrencyError(
              request.tenantId,
              request.streamId,
              expected === 'any' ? 'no_stream' : expected,
              outcome.actualVersion,
            ),
          );
          break;
        }
        default:
          outcome satisfies never;
      }
    }
    if (wrote) this.announceCommit();
  }

  private writeAtomically(requests: PendingAppend[], options: AtomicAppendOptions): Promise<AppendResult[]> {
    const settle = async (recordedAt: Date): Promise<AppendResult[] | undefined> => {
      const found = await this.findWritten(requests, recordedAt);
      if (found.length === 0) return undefined;
      // One transaction: it committed whole, with the caller's own writes, before the connection died.
      return settledOutcomes(requests, found, recordedAt).map((outcome) => {
        if (outcome?.kind !== 'written') throw new Error('an atomic append committed only in part');
        return outcome.result;
      });
    };
    return this.retrying(
      (recordedAt) =>
        this.db.sql.transaction(async (tx) => {
          const outcomes = await writeBatch(tx, requests, recordedAt, this.notifyTagFor());
          const results = outcomes.map((outcome) => {
            if (outcome.kind === 'written') return outcome.result;
            // No idempotency keys here, so anything else is a version conflict: it aborts them all.
            const { request } = outcome;
            const expected = request.options.expectedVersion as number | 'no_stream';
            throw new ConcurrencyError(
              request.tenantId,
              request.streamId,
              expected,
              outcome.kind === 'conflict' ? outcome.actualVersion : undefined,
            );
          });
          await options.withinTransaction?.(tx, results);
          return results;
        }),
      settle,
    );
  }

  private writeWithRetries(batch: PendingAppend[]): Promise<Outcome[]> {
    const settle = async (recordedAt: Date): Promise<Outcome[] | undefined> => {
      const found = await this.findWritten(batch, recordedAt);
      if (found.length === 0) return undefined;
      // The batch (one statement or one transaction) committed before the connection died. Its
      // other appends lost their version check or repeated a key: asked again, they answer the same.
      const outcomes = settledOutcomes(batch, found, recordedAt);
      const rest = batch.filter((_, i) => outcomes[i] === undefined);
      const again = rest.length > 0 ? await this.writeWithRetries(rest) : [];
      if (this.kind === 'postgres') this.notifyOtherProcesses();
      return outcomes.map((outcome) => outcome ?? again.shift()!);
    };
    return this.retrying(async (recordedAt) => {
      // The write path uses the driver under Prisma: see docs/decisions/0005-group-commit.md.
      const simple = batch.every(
        (r) => r.options.idempotencyKey === undefined && !r.options.withinTransaction,
      );
      if (simple) {
        const outcomes = await writeBatchInOneStatement(this.db.sql, batch, recordedAt);
        if (this.kind === 'postgres' && outcomes.some((o) => o.kind === 'written'))
          this.notifyOtherProcesses();
        return outcomes;
      }
      return this.db.sql.transaction((tx) => writeBatch(tx, batch, recordedAt, this.notifyTagFor()));
    }, settle);
  }

  /**
   * Runs a write stamped with the clock, again (up to 5 times) after a missing partition, a deadlock
   * or a lost connection. SA: a connection can die after its COMMIT took effect, so before writing
   * again `settle` asks the database whether the write is there (its result) or not (undefined).
   */
  private async retrying<T>(
    write: (recordedAt: Date) => Promise<T>,
    settle: (recordedAt: Date) => Promise<T | undefined>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const recordedAt = new Date(this.clock());
      try {
        return await write(recordedAt);
      } catch (error) {
        const reason = retryReason(error);
        if (reason === undefined || attempt >= 5) throw error;
        if (reason === 'missing-partition') {
          // The clock crossed into a day nobody prepared (or jumped): make it and go again.
          const day = utcDay(recordedAt.getTime());
          await ensurePartitions(this.db.sql, addDays(day, 0), 1);
        }
        if (reason === 'connection-lost') {
          this.stats.connectionsLost++;
          const settled = await this.settleLostWrite(() => settle(recordedAt), error);
          if (settled !== undefined) return settled;
        }
      }
    }
  }

  /** Runs `settle` on a fresh connection, retried with backoff while connections keep dying. */
  private async settleLostWrite<T>(
    settle: () => Promise<T | undefined>,
    original: unknown,
  ): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      try {
        return await settle();
      } catch (error) {
        if (!isConnectionLost(error) || attempt >= 5) throw original;
      }
    }
  }

  /**
   * The rows a lost write left, found by its events' ids. Locking the streams first waits for a
   * writer whose connection we lost but whose backend is still running, so its outcome is final.
   */
  private findWritten(batch: readonly PendingAppend[], recordedAt: Date): Promise<WrittenRow[]> {
    const streams = [batch.map((r) => r.tenantId), batch.map((r) => r.streamId)];
    return this.db.sql.transaction(async (tx) => {
      await tx.query(
        `SELECT 1 FROM streams s JOIN unnest($1::text[], $2::text[]) AS v(t, s) ON s.tenant_id = v.t AND s.stream_id = v.s
          ORDER BY s.tenant_id, s.stream_id FOR UPDATE OF s`,
        streams,
      );
      return tx.query<WrittenRow>(
        `SELECT e.tenant_id, e.stream_id, e.version, e.event_id::text AS event_id, e.tx_id::text AS tx,
                e.position::text AS pos
           FROM events e JOIN unnest($1::text[], $2::text[]) AS v(t, s) ON e.tenant_id = v.t AND e.stream_id = v.s
          WHERE e.recorded_at = $3::timestamptz AND e.event_id = ANY($4::uuid[])`,
        [...streams, recordedAt, batch.flatMap((r) => r.events.map((e) => e.eventId))],
      );
    });
  }
}

interface WrittenRow {
  tenant_id: string;
  stream_id: string;
  version: number;
  event_id: string;
  tx: string;
  pos: string;
}

/** The outcomes of the appends whose events a lost write left behind; undefined for the others. */
function settledOutcomes(
  batch: readonly PendingAppend[],
  found: readonly WrittenRow[],
  recordedAt: Date,
): (Outcome | undefined)[] {
  const byEvent = new Map(found.map((row) => [row.event_id, row]));
  const newVersions = new Map<string, number>();
  const written = new Map<string, { tx: string; pos: string }>();
  const winners = batch.filter((request) => {
    const rows = request.events.map((e) => byEvent.get(e.eventId));
    if (rows.some((row) => row === undefined)) return false;
    for (const row of rows) written.set(`${request.key}#${row!.version}`, row!);
    newVersions.set(request.key, Math.max(...rows.map((row) => row!.version)));
    return true;
  });
  const outcomes = new Map<PendingAppend, Outcome>(
    writtenOutcomes(winners, newVersions, written, recordedAt).map((o) => [o.request, o]),
  );
  return batch.map((request) => outcomes.get(request));
}

async function writeBatch(
  tx: SqlQueryable,
  batch: PendingAppend[],
  recordedAt: Date,
  /** The NOTIFY payload that tells other processes of the commit; undefined on PGlite. */
  notifyTag: string | undefined,
): Promise<Outcome[]> {
  const outcomes = new Map<PendingAppend, Outcome>();

  // 1. Claim idempotency keys. A key already claimed (now, or by a concurrent transaction that
  //    then committed) marks a retry: it gets the original result and writes nothing.
  const keyed = batch.filter((r) => r.options.idempotencyKey !== undefined);
  if (keyed.length > 0) {
    const claimed = await tx.query<{ tenant_id: string; stream_id: string }>(
      `INSERT INTO append_idempotency (tenant_id, stream_id, key)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT DO NOTHING RETURNING tenant_id, stream_id`,
      [
        keyed.map((r) => r.tenantId),
        keyed.map((r) => r.streamId),
        keyed.map((r) => r.options.idempotencyKey),
      ],
    );
    const claimedKeys = new Set(claimed.map((row) => streamKey(row.tenant_id, row.stream_id)));
    const repeats = keyed.filter((r) => !claimedKeys.has(r.key));
    if (repeats.length > 0) {
      const originals = await tx.query<{
        tenant_id: string;
        stream_id: string;
        first_version: number;
        last_version: number;
        checkpoint: string;
      }>(
        `SELECT a.tenant_id, a.stream_id, a.first_version, a.last_version, a.checkpoint
           FROM append_idempotency a
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS v(tenant_id, stream_id, key)
             ON a.tenant_id = v.tenant_id AND a.stream_id = v.stream_id AND a.key = v.key`,
        [
          repeats.map((r) => r.tenantId),
          repeats.map((r) => r.streamId),
          repeats.map((r) => r.options.idempotencyKey),
        ],
      );
      const byKey = new Map(originals.map((row) => [streamKey(row.tenant_id, row.stream_id), row]));
      for (const request of repeats) {
        const original = byKey.get(request.key);
        if (!original) throw new Error(`idempotency key of ${request.streamId} vanished mid-append`);
        outcomes.set(request, {
          kind: 'duplicate',
          request,
          firstVersion: original.first_version,
          lastVersion: original.last_version,
          checkpoint: original.checkpoint as Checkpoint,
        });
      }
    }
  }

  // 2. Move each stream's version forward if it is still what the caller expected.
  const fresh = batch.filter((r) => !outcomes.has(r));
  const newVersions = new Map<string, number>();
  const byExpectation = {
    existing: fresh.filter(
      (r) => typeof r.options.expectedVersion === 'number' && r.options.expectedVersion > 0,
    ),
    absent: fresh.filter((r) => r.options.expectedVersion === 'no_stream' || r.options.expectedVersion === 0),
    any: fresh.filter((r) => r.options.expectedVersion === 'any'),
  };
  const remember = (rows: { tenant_id: string; stream_id: string; version: number }[]) => {
    for (const row of rows) newVersions.set(streamKey(row.tenant_id, row.stream_id), row.version);
  };
  if (byExpectation.existing.length > 0) {
    const r = byExpectation.existing;
    remember(
      await tx.query<{ tenant_id: string; stream_id: string; version: number }>(
        `UPDATE streams AS s SET version = v.expected + v.n, updated_at = now()
           FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS v(tenant_id, stream_id, expected, n)
          WHERE s.tenant_id = v.tenant_id AND s.stream_id = v.stream_id AND s.version = v.expected
          RETURNING s.tenant_id, s.stream_id, s.version`,
        [
          r.map((x) => x.tenantId),
          r.map((x) => x.streamId),
          r.map((x) => x.options.expectedVersion),
          r.map((x) => x.events.length),
        ],
      ),
    );
  }
  if (byExpectation.absent.length > 0) {
    const r = byExpectation.absent;
    remember(
      await tx.query<{ tenant_id: string; stream_id: string; version: number }>(
        `INSERT INTO streams (tenant_id, stream_id, version)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
         ON CONFLICT DO NOTHING RETURNING tenant_id, stream_id, version`,
        [r.map((x) => x.tenantId), r.map((x) => x.streamId), r.map((x) => x.events.length)],
      ),
    );
  }
  if (byExpectation.any.length > 0) {
    const r = byExpectation.any;
    remember(
      await tx.query<{ tenant_id: string; stream_id: string; version: number }>(
        `INSERT INTO streams AS s (tenant_id, stream_id, version)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
         ON CONFLICT (tenant_id, stream_id)
           DO UPDATE SET version = s.version + EXCLUDED.version, updated_at = now()
         RETURNING s.tenant_id, s.stream_id, s.version`,
        [r.map((x) => x.tenantId), r.map((x) => x.streamId), r.map((x) => x.events.length)],
      ),
    );
  }
  const losers = fresh.filter((r) => !newVersions.has(r.key));
  if (losers.length > 0) {
    const actual = await tx.query<{ tenant_id: string; stream_id: string; version: number }>(
      `SELECT s.tenant_id, s.stream_id, s.version FROM streams s
         JOIN unnest($1::text[], $2::text[]) AS v(tenant_id, stream_id)
           ON s.tenant_id = v.tenant_id AND s.stream_id = v.stream_id`,
      [losers.map((r) => r.tenantId), losers.map((r) => r.streamId)],
    );
    const versions = new Map(actual.map((row) => [streamKey(row.tenant_id, row.stream_id), row.version]));
    for (const request of losers) {
      outcomes.set(request, { kind: 'conflict', request, actualVersion: versions.get(request.key) ?? 0 });
    }
  }

  // 3. Write the winners' events in one statement.
  const winners = fresh.filter((r) => newVersions.has(r.key));
  const written = new Map<string, { tx: string; pos: string }>();
  if (winners.length > 0) {
    // One JSON document for the whole batch: PostgreSQL parses it in C, where building array
    // literals in JavaScript would escape every payload again. Rows go in in order `o`, so positions
    // (taken from the sequence as rows are inserted) follow versions within a stream.
    const document = eventsDocument(winners, (r) => newVersions.get(r.key)! - r.events.length + 1);
    const rows = await tx.query<{
      tenant_id: string;
      stream_id: string;
      version: number;
      tx: string;
      pos: string;
    }>(
      `INSERT INTO events (tenant_id, stream_id, version, event_id, type, data, metadata, recorded_at)
       SELECT x.t, x.s, x.v, x.i, x.y, x.d, x.m, $2::timestamptz
         FROM jsonb_to_recordset($1::jsonb) AS x(t text, s text, v int, o int, i uuid, y text, d jsonb, m jsonb)
        ORDER BY x.o
       RETURNING tenant_id, stream_id, version, tx_id::text AS tx, position::text AS pos`,
      [document, recordedAt],
    );
    for (const row of rows) written.set(`${streamKey(row.tenant_id, row.stream_id)}#${row.version}`, row);
  }

  for (const outcome of writtenOutcomes(winners, newVersions, written, recordedAt))
    outcomes.set(outcome.request, outcome);

  // 4. The callers' own writes that must commit with their events.
  for (const request of winners) {
    const outcome = outcomes.get(request);
    if (request.options.withinTransaction && outcome?.kind === 'written') {
      await request.options.withinTransaction(tx, outcome.result);
    }
  }

  // 5. Record the results of the keys claimed in step 1, and free the keys of the losers.
  const keyedWinners = winners.filter((r) => r.options.idempotencyKey !== undefined);
  if (keyedWinners.length > 0) {
    await tx.query(
      `UPDATE append_idempotency a SET first_version = v.f, last_version = v.l, checkpoint = v.c
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[]) AS v(t, s, k, f, l, c)
        WHERE a.tenant_id = v.t AND a.stream_id = v.s AND a.key = v.k`,
      [
        keyedWinners.map((r) => r.tenantId),
        keyedWinners.map((r) => r.streamId),
        keyedWinners.map((r) => r.options.idempotencyKey),
        keyedWinners.map((r) => newVersions.get(r.key)! - r.events.length + 1),
        keyedWinners.map((r) => newVersions.get(r.key)!),
        keyedWinners.map((r) => (outcomes.get(r) as Extract<Outcome, { kind: 'written' }>).result.checkpoint),
      ],
    );
  }
  const keyedLosers = losers.filter((r) => r.options.idempotencyKey !== undefined);
  if (keyedLosers.length > 0) {
    await tx.query(
      `DELETE FROM append_idempotency a USING unnest($1::text[], $2::text[], $3::text[]) AS v(t, s, k)
        WHERE a.tenant_id = v.t AND a.stream_id = v.s AND a.key = v.k`,
      [
        keyedLosers.map((r) => r.tenantId),
        keyedLosers.map((r) => r.streamId),
        keyedLosers.map((r) => r.options.idempotencyKey),
      ],
    );
  }
  if (notifyTag !== undefined && winners.length > 0) {
    await tx.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', $1)`, [notifyTag]);
  }
  return batch.map((request) => outcomes.get(request)!);
}

type Written = Extract<Outcome, { kind: 'written' }>;

/** The results of the appends that won, from their new versions and the rows the insert returned. */
function writtenOutcomes(
  winners: readonly PendingAppend[],
  newVersions: ReadonlyMap<string, number>,
  written: ReadonlyMap<string, { tx: string; pos: string }>,
  recordedAt: Date,
): Written[] {
  const recordedAtMs = recordedAt.getTime();
  return winners.map((request) => {
    const last = newVersions.get(request.key)!;
    const first = last - request.events.length + 1;
    const events = request.events.map((event, i): RecordedEvent => {
      const at = written.get(`${request.key}#${first + i}`);
      if (!at) throw new Error(`event ${first + i} of ${request.streamId} was not written`);
      return {
        tenantId: request.tenantId,
        streamId: request.streamId,
        version: first + i,
        eventId: event.eventId,
        type: event.type,
        data: event.data as JsonObject,
        metadata: event.metadata,
        recordedAt: recordedAtMs,
        checkpoint: formatCheckpoint(at.tx, at.pos),
      };
    });
    return {
      kind: 'written',
      request,
      result: {
        tenantId: request.tenantId,
        streamId: request.streamId,
        firstVersion: first,
        nextExpectedVersion: last,
        checkpoint: events.at(-1)!.checkpoint,
        duplicate: false,
        events,
      },
    };
  });
}

/** Serialises a batch's events as one JSON array; `v` is each event's offset within its append. */
function eventsDocument(
  requests: readonly PendingAppend[],
  firstVersion: (r: PendingAppend) => number,
): string {
  const parts: string[] = [];
  for (const request of requests) {
    const first = firstVersion(request);
    const head = `{"t":${JSON.stringify(request.tenantId)},"s":${JSON.stringify(request.streamId)},"v":`;
    request.events.forEach((event, i) => {
      parts.push(
        `${head}${first + i},"o":${parts.length},"i":"${event.eventId}","y":${JSON.stringify(event.type)},"d":${event.dataJson},"m":${event.metadataJson}}`,
      );
    });
  }
  return `[${parts.join(',')}]`;
}

/**
 * The common batch (no idempotency keys, no transactional side writes) as ONE statement in
 * autocommit: it moves the versions, inserts the winners' events and returns both, in a single
 * round trip instead of BEGIN, three statements and COMMIT. A statement is atomic on its own.
 */
async function writeBatchInOneStatement(
  sql: SqlQueryable,
  batch: PendingAppend[],
  recordedAt: Date,
): Promise<Outcome[]> {
  const requests = JSON.stringify(
    batch.map((r) => {
      const e = r.options.expectedVersion;
      return {
        t: r.tenantId,
        s: r.streamId,
        e: e === 'any' ? null : e === 'no_stream' ? 0 : e,
        n: r.events.length,
      };
    }),
  );
  const rows = await sql.query<{
    k: 'version' | 'event';
    tenant_id: string;
    stream_id: string;
    version: number;
    tx: string | null;
    pos: string | null;
  }>(
    `WITH req AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(t text, s text, e int, n int)
     ), moved AS (
       UPDATE streams st SET version = r.e + r.n, updated_at = now()
         FROM req r
        WHERE r.e > 0 AND st.tenant_id = r.t AND st.stream_id = r.s AND st.version = r.e
       RETURNING st.tenant_id, st.stream_id, st.version
     ), created AS (
       INSERT INTO streams (tenant_id, stream_id, version)
       SELECT r.t, r.s, r.n FROM req r WHERE r.e = 0
       ON CONFLICT DO NOTHING
       RETURNING tenant_id, stream_id, version
     ), anywhere AS (
       INSERT INTO streams AS st (tenant_id, stream_id, version)
       SELECT r.t, r.s, r.n FROM req r WHERE r.e IS NULL
       ON CONFLICT (tenant_id, stream_id) DO UPDATE SET version = st.version + EXCLUDED.version, updated_at = now()
       RETURNING st.tenant_id, st.stream_id, st.version
     ), winners AS (
       SELECT * FROM moved UNION ALL SELECT * FROM created UNION ALL SELECT * FROM anywhere
     ), ins AS (
       INSERT INTO events (tenant_id, stream_id, version, event_id, type, data, metadata, recorded_at)
       SELECT x.t, x.s, w.version - r.n + x.v, x.i, x.y, x.d, x.m, $3::timestamptz
         FROM jsonb_to_recordset($2::jsonb) AS x(t text, s text, v int, o int, i uuid, y text, d jsonb, m jsonb)
         JOIN winners w ON w.tenant_id = x.t AND w.stream_id = x.s
         JOIN req r ON r.t = x.t AND r.s = x.s
        ORDER BY x.o
       RETURNING tenant_id, stream_id, version, tx_id::text AS tx, position::text AS pos
     )
     SELECT 'version' AS k, tenant_id, stream_id, version, NULL AS tx, NULL AS pos FROM winners
     UNION ALL
     SELECT 'event', tenant_id, stream_id, version, tx, pos FROM ins`,
    [requests, eventsDocument(batch, () => 1), recordedAt],
  );
  const newVersions = new Map<string, number>();
  const written = new Map<string, { tx: string; pos: string }>();
  for (const row of rows) {
    const key = streamKey(row.tenant_id, row.stream_id);
    if (row.k === 'version') newVersions.set(key, row.version);
    else written.set(`${key}#${row.version}`, { tx: row.tx!, pos: row.pos! });
  }
  const winners = batch.filter((r) => newVersions.has(r.key));
  const losers = batch.filter((r) => !newVersions.has(r.key));
  const outcomes = new Map<PendingAppend, Outcome>();
  for (const outcome of writtenOutcomes(winners, newVersions, written, recordedAt))
    outcomes.set(outcome.request, outcome);
  if (losers.length > 0) {
    const actual = await sql.query<{ tenant_id: string; stream_id: string; version: number }>(
      `SELECT s.tenant_id, s.stream_id, s.version FROM streams s
         JOIN unnest($1::text[], $2::text[]) AS v(tenant_id, stream_id)
           ON s.tenant_id = v.tenant_id AND s.stream_id = v.stream_id`,
      [losers.map((r) => r.tenantId), losers.map((r) => r.streamId)],
    );
    const versions = new Map(actual.map((row) => [streamKey(row.tenant_id, row.stream_id), row.version]));
    for (const request of losers)
      outcomes.set(request, { kind: 'conflict', request, actualVersion: versions.get(request.key) ?? 0 });
  }
  return batch.map((request) => outcomes.get(request)!);
}

function retryReason(error: unknown): 'missing-partition' | 'deadlock' | 'connection-lost' | undefined {
  if (isConnectionLost(error)) return 'connection-lost';
  const text = errorText(error);
  if (/no partition of relation "events" found/.test(text)) return 'missing-partition';
  if (/deadlock detected|40P01|could not serialize/.test(text)) return 'deadlock';
  return undefined;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const meta = (error as { meta?: unknown }).meta;
  return `${error.message} ${meta ? JSON.stringify(meta) : ''}`;
}

function streamKey(tenantId: string, streamId: string): string {
  return `${tenantId}/${streamId}`;
}

export function toRecorded(row: EventRow): RecordedEvent {
  return {
    tenantId: row.tenant_id as TenantId,
    streamId: row.stream_id as StreamId,
    version: Number(row.version),
    eventId: row.event_id,
    type: row.type,
    data: row.data as JsonObject,
    metadata: row.metadata,
    recordedAt: row.recorded_at.getTime(),
    checkpoint: formatCheckpoint(row.tx, row.pos),
  };
}

export { START, InvalidAppendError };
export type { EventRow };
