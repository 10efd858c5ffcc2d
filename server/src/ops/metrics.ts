import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GrainRuntimeStats } from '../actors/runtime';
import type { SqlQueryable } from '../db/driver';

/** How long the queue-depth query of one scrape may take before the scrape reports it as down. */
export const QUEUE_QUERY_TIMEOUT_MS = 2_000;

/** What `/metrics` reads, each on scrape (nothing here runs between scrapes). */
export interface MetricSources {
  /** Receives the store's group commits (`SqlEventStore.onBatch`). */
  observeBatches(observe: (size: number, seconds: number) => void): void;
  readonly sql: SqlQueryable;
  grainStats(): GrainRuntimeStats;
  /** The outbox dispatcher's breakers, by channel. */
  breakers(): Record<string, { readonly state: string }>;
  /** Open board sockets and loaded boards. */
  boards(): { readonly connections: number; readonly loadedBoards: number };
  /** Open HTTP requests, live streams (SSE) and whether the process is draining. */
  http(): { readonly inFlight: number; readonly streams: number; readonly draining: boolean };
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const QUEUES = [
  { queue: 'inbox', table: 'webhook_inbox', since: 'received_at', statuses: ['pending', 'processing'] },
  { queue: 'outbox', table: 'channel_outbox', since: 'created_at', statuses: ['pending', 'sending'] },
] as const;

/** Counts and oldest ages of the inbox's and outbox's open rows, in one statement on their partial indexes. */
const QUEUE_SQL = QUEUES.map(
  ({ queue, table, since, statuses }) =>
    `SELECT '${queue}' AS queue, status, count(*)::int AS n,
            COALESCE(EXTRACT(EPOCH FROM now() - min(${since})), 0)::float8 AS age
       FROM ${table} WHERE status IN (${statuses.map((s) => `'${s}'`).join(', ')}) GROUP BY status`,
).join('\nUNION ALL\n');

/** One server's Prometheus exposition. */
export interface Metrics {
  readonly contentType: string;
  /** The text exposition of every series now. */
  scrape(): Promise<string>;
}

/**
 * The process's Prometheus registry: Node's process and event-loop metrics (`process_*`,
 * `nodejs_*`), then Parley's own (`parley_*`), listed in docs/decisions/0021-operations-endpoints.md.
 */
export function createMetrics(sources: MetricSources): Metrics {
  const register = new Registry();

  const batchSeconds = new Histogram({
    name: 'parley_store_append_batch_seconds',
    help: "Duration of one group commit's transaction (its appends wait at most this plus their queueing)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [register],
  });
  const batchSize = new Histogram({
    name: 'parley_store_append_batch_size',
    help: 'Appends written by one group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [register],
  });
  sources.observeBatches((size, seconds) => {
    batchSize.observe(size);
    batchSeconds.observe(seconds);
  });

  const grainCounter = (name: string, help: string, read: (stats: GrainRuntimeStats) => number) =>
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        this.reset();
        this.inc(read(sources.grainStats()));
      },
    });
  new Gauge({
    name: 'parley_grain_activations',
    help: 'Grain activations in memory now',
    registers: [register],
    collect() {
      this.set(sources.grainStats().active);
    },
  });
  grainCounter(
    'parley_grain_activations_total',
    'Grain activations created since start',
    (s) => s.activations,
  );
  grainCounter(
    'parley_grain_passivations_total',
    'Grain activations dropped from memory since start',
    (s) => s.passivations,
  );
  grainCounter(
    'parley_grain_conflicts_total',
    'Appends refused by the optimistic concurrency check (another writer got there first)',
    (s) => s.conflicts,
  );

  // One query per scrape for the three queue gauges (prom-client collects them concurrently).
  type QueueRow = { queue: string; status: string; n: number; age: number };
  let queueRows: Promise<QueueRow[] | undefined> | undefined;
  const readQueues = () =>
    (queueRows ??= withTimeout(sources.sql.query<QueueRow>(QUEUE_SQL), QUEUE_QUERY_TIMEOUT_MS)
      .catch(() => undefined)
      .finally(() => {
        queueRows = undefined;
      }));
  new Gauge({
    name: 'parley_queue_depth',
    help: 'Open rows of the webhook inbox and the reply outbox, by status',
    labelNames: ['queue', 'status'],
    registers: [register],
    async collect() {
      const rows = await readQueues();
      if (!rows) return; // the depths keep their last values; parley_queue_query_up says 0
      for (const { queue, statuses } of QUEUES)
        for (const status of statuses)
          this.set({ queue, status }, rows.find((r) => r.queue === queue && r.status === status)?.n ?? 0);
    },
  });
  new Gauge({
    name: 'parley_queue_oldest_age_seconds',
    help: 'Age of the oldest open row of the webhook inbox and the reply outbox (0 when empty)',
    labelNames: ['queue'],
    registers: [register],
    async collect() {
      const rows = await readQueues();
      if (!rows) return;
      for (const { queue } of QUEUES)
        this.set({ queue }, Math.max(0, ...rows.filter((r) => r.queue === queue).map((r) => r.age)));
    },
  });
  new Gauge({
    name: 'parley_queue_query_up',
    help: '1 when this scrape could count the inbox and outbox, 0 when the database did not answer',
    registers: [register],
    async collect() {
      this.set((await readQueues()) ? 1 : 0);
    },
  });

  new Gauge({
    name: 'parley_outbox_breakers',
    help: "Channels by the state of their circuit breaker in this process's outbox dispatcher (once it sent to them)",
    labelNames: ['state'],
    registers: [register],
    collect() {
      const counts = new Map<string, number>(BREAKER_STATES.map((state) => [state, 0]));
      for (const { state } of Object.values(sources.breakers()))
        counts.set(state, (counts.get(state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  new Gauge({
    name: 'parley_board_connections',
    help: 'Open board sockets',
    registers: [register],
    collect() {
      this.set(sources.boards().connections);
    },
  });
  new Gauge({
    name: 'parley_boards_loaded',
    help: 'Boards loaded in memory',
    registers: [register],
    collect() {
      this.set(sources.boards().loadedBoards);
    },
  });
  new Gauge({
    name: 'parley_sse_streams',
    help: 'Open live streams (server-sent events)',
    registers: [register],
    collect() {
      this.set(sources.http().streams);
    },
  });
  new Gauge({
    name: 'parley_http_requests_in_flight',
    help: 'HTTP requests being answered, live streams excluded',
    registers: [register],
    collect() {
      this.set(sources.http().inFlight);
    },
  });
  new Gauge({
    name: 'parley_draining',
    help: '1 once the process is draining (SIGTERM or SIGINT), else 0',
    registers: [register],
    collect() {
      this.set(sources.http().draining ? 1 : 0);
    },
  });
  const node = processRegistry();
  return {
    contentType: register.contentType,
    async scrape() {
      const [own, shared] = await Promise.all([register.metrics(), node.metrics()]);
      return `${shared}${own}`;
    },
  };
}

let nodeRegistry: Registry | undefined;

/** Node's process and event-loop metrics: one set per process, however many servers it runs (tests). */
function processRegistry(): Registry {
  if (!nodeRegistry) {
    nodeRegistry = new Registry();
    collectDefaultMetrics({ register: nodeRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return nodeRegistry;
}

/** `promise`, or a rejection after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
