import {
  currentCycle,
  evolveMetrics,
  initialMetricsState,
  streamCategory,
  streamEntityId,
  StreamCategory,
  type Actor,
  type BusinessSchedule,
  type Checkpoint,
  type CycleFacts,
  type MetricsEvent,
  type MetricsState,
  type RecordedEvent,
  type TenantId,
} from '@parley/domain';
import type { Database } from '../db/database';
import type { SqlQueryable } from '../db/driver';
import type { Logger } from '../logger';
import { START } from '../store/checkpoint';
import type { EventStore } from '../store/types';
import { isConversationEvent } from './conversation-events';
import { startFollower } from './follower';

/**
 * The analytics projection (#16, decision 0020): reporting tables fed from the global log.
 *
 * Every conversation's metrics fold (the domain's `evolveMetrics`) is stored with the stream version
 * it has folded, and an event is applied only when it is that version + 1. The cycle and response
 * rows are a function of the fold alone, and the daily counters move with the same versions, in the
 * same transaction as the checkpoint: a restart, a replay or a rebuild running beside the live
 * projection neither loses nor counts an event twice. A conversation whose rows are missing (a
 * rebuild deleted them) is filled from its stream.
 */

/** The tables this projection owns, in the order a dump compares them. */
export const ANALYTICS_TABLES = [
  'analytics_conversations',
  'analytics_cycles',
  'analytics_responses',
  'analytics_daily',
] as const;

/** The checkpoint's name in `subscription_checkpoints`. */
export const ANALYTICS_CHECKPOINT = 'analytics';

/**
 * An inbox's business hours. Inboxes have no stored schedule yet, so the default is none: business
 * time is calendar time (24/7). Return the same object for an inbox each time (its day cache).
 */
export type ScheduleFor = (tenantId: TenantId, inboxId: string) => BusinessSchedule | null;

const NO_SCHEDULE: ScheduleFor = () => null;

export type AnalyticsDimension = 'tenant' | 'inbox' | 'agent' | 'channel' | 'label';
type Counter = 'opened' | 'resolved' | 'reopened' | 'messages_in' | 'messages_out';
type Keys = readonly (readonly [AnalyticsDimension, string])[];

/** What the projection stores per conversation besides its version. */
interface Stored {
  /** The fold, without its schedule (given again on load). */
  readonly metrics: MetricsState;
  /** The conversation's labels while each cycle was open (frozen when it ends). */
  readonly cycleLabels: Record<string, readonly string[]>;
}

/** Where a queued reply was counted, so a failure takes it off the same counters. */
type Outbound = Record<string, { readonly day: string; readonly keys: Keys }>;

interface Entry {
  readonly tenantId: TenantId;
  readonly conversationId: string;
  /** The version in the table when loaded; null when it had no row. */
  readonly loaded: number | null;
  version: number;
  stored: Stored;
  outbound: Outbound;
  /** Each cycle's rows as JSON when loaded, to write only what changed. */
  readonly before: Map<number, string>;
}

interface Context {
  readonly store: EventStore;
  readonly db: Database;
  readonly scheduleFor: ScheduleFor;
}

export interface AnalyticsOptions {
  readonly store: EventStore;
  readonly db: Database;
  readonly logger?: Logger;
  readonly name?: string;
  readonly scheduleFor?: ScheduleFor;
  /** Events per transaction at most. Defaults to 500. */
  readonly batchSize?: number;
}

export interface AnalyticsProjection {
  /** Every event at or before this checkpoint is in the tables (and the stored checkpoint). */
  readonly checkpoint: Checkpoint;
  /** Resolves once every event committed before the call is in the tables. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** A concurrent writer (a rebuild, another process) changed a conversation's row: redo the batch. */
class Conflict extends Error {}

/**
 * Starts the live projection: it reads the global log from its stored checkpoint and applies
 * batches of events, each in one transaction with the new checkpoint.
 */
export async function startAnalyticsProjection(options: AnalyticsOptions): Promise<AnalyticsProjection> {
  const { store, db, logger } = options;
  const name = options.name ?? ANALYTICS_CHECKPOINT;
  const context: Context = { store, db, scheduleFor: options.scheduleFor ?? NO_SCHEDULE };
  return startFollower({
    store,
    db,
    ...(logger && { logger }),
    name,
    label: 'analytics projection',
    batchSize: options.batchSize ?? 500,
    apply: (events, checkpoint) => applyWithRetry(context, events, { name, checkpoint }),
  });
}

/** How far a rebuild got. */
export interface RebuildProgress {
  readonly events: number;
  readonly done: boolean;
}

/**
 * Deletes the analytics rows of one tenant (or all) and replays the log from its start, archived
 * days included (the store reads them). Safe while the live projection runs: both apply an event
 * only as a conversation's next version.
 */
export async function rebuildAnalytics(options: {
  readonly store: EventStore;
  readonly db: Database;
  readonly tenantId?: TenantId;
  readonly scheduleFor?: ScheduleFor;
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}): Promise<{ readonly events: number }> {
  const { store, db, tenantId } = options;
  const batchSize = options.batchSize ?? 1000;
  const context: Context = { store, db, scheduleFor: options.scheduleFor ?? NO_SCHEDULE };
  await db.sql.transaction(async (tx) => {
    for (const table of ANALYTICS_TABLES) {
      if (tenantId === undefined) await tx.query(`DELETE FROM ${table}`);
      else await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
    }
  });
  let position = START;
  let events = 0;
  for (;;) {
    const page =
      tenantId === undefined
        ? await store.readAllTenants(position, batchSize)
        : await store.readAll(tenantId, position, batchSize);
    if (page.events.length > 0) await applyWithRetry(context, page.events, null);
    events += page.events.length;
    position = page.next;
    const done = page.events.length < batchSize;
    options.onProgress?.({ events, done });
    if (done) return { events };
  }
}

/** Every row of the analytics tables (of one tenant, or all), in a fixed order: for comparisons. */
export async function dumpAnalytics(
  db: Database,
  tenantId?: TenantId,
): Promise<Record<(typeof ANALYTICS_TABLES)[number], unknown[]>> {
  const dump = {} as Record<(typeof ANALYTICS_TABLES)[number], unknown[]>;
  for (const table of ANALYTICS_TABLES) {
    const where = tenantId === undefined ? '' : 'WHERE tenant_id = $1';
    dump[table] = await db.sql.query(
      `SELECT to_jsonb(t) AS row FROM ${table} t ${where} ORDER BY to_jsonb(t)::text`,
      tenantId === undefined ? [] : [tenantId],
    );
  }
  return dump;
}

async function applyWithRetry(
  context: Context,
  events: readonly RecordedEvent[],
  checkpoint: { name: string; checkpoint: Checkpoint } | null,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await applyBatch(context, events, checkpoint);
      return;
    } catch (error) {
      if (!(error instanceof Conflict) || attempt >= 20) throw error;
    }
  }
}

/**
 * Folds a batch of events into the conversations they belong to and writes what changed, with the
 * checkpoint, in one transaction. Reads (rows, missing stream events) happen before it: PGlite has
 * one connection, and the store's reads would wait behind the open transaction.
 */
async function applyBatch(
  context: Context,
  events: readonly RecordedEvent[],
  checkpoint: { name: string; checkpoint: Checkpoint } | null,
): Promise<void> {
  const conversationEvents = events.filter(
    (event) => streamCategory(event.streamId) === StreamCategory.conversation,
  );
  const entries = await loadEntries(context, conversationEvents);
  const deltas = new Map<string, Record<Counter, number>>();
  for (const event of conversationEvents) {
    const entry = entries.get(entryKey(event.tenantId, streamEntityId(event.streamId)))!;
    if (event.version <= entry.version) continue;
    if (event.version > entry.version + 1) {
      // Rows missing (deleted by a rebuild, or never written): fold the stream from where they stop.
      const missing = await context.store.readStream(event.tenantId, event.streamId, {
        fromVersion: entry.version + 1,
        limit: event.version - entry.version - 1,
      });
      for (const earlier of missing) step(context, entry, earlier, deltas);
    }
    step(context, entry, event, deltas);
  }
  const changed = [...entries.values()].filter((entry) => entry.version !== (entry.loaded ?? 0));
  if (changed.length === 0 && deltas.size === 0 && checkpoint === null) return;
  await context.db.sql.transaction(async (tx) => {
    await writeEntries(tx, changed);
    await writeDeltas(tx, deltas);
    if (checkpoint !== null) {
      await tx.query(
        `INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()`,
        [checkpoint.name, checkpoint.checkpoint],
      );
    }
  });
}

function entryKey(tenantId: string, conversationId: string): string {
  return `${tenantId}\u0000${conversationId}`;
}

async function loadEntries(context: Context, events: readonly RecordedEvent[]): Promise<Map<string, Entry>> {
  const wanted = new Map<string, { tenantId: TenantId; conversationId: string }>();
  for (const event of events) {
    const conversationId = streamEntityId(event.streamId);
    wanted.set(entryKey(event.tenantId, conversationId), { tenantId: event.tenantId, conversationId });
  }
  const list = [...wanted.values()];
  const rows =
    list.length === 0
      ? []
      : await context.db.sql.query<{
          tenant_id: TenantId;
          conversation_id: string;
          version: number;
          state: Stored;
          outbound: Outbound;
        }>(
          `SELECT tenant_id, conversation_id, version, state, outbound FROM analytics_conversations
            WHERE (tenant_id, conversation_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
          [list.map((w) => w.tenantId), list.map((w) => w.conversationId)],
        );
  const found = new Map(rows.map((row) => [entryKey(row.tenant_id, row.conversation_id), row]));
  const entries = new Map<string, Entry>();
  for (const [key, { tenantId, conversationId }] of wanted) {
    const row = found.get(key);
    const stored: Stored = row
      ? { ...row.state, metrics: withSchedule(context, tenantId, row.state.metrics) }
      : { metrics: initialMetricsState(null), cycleLabels: {} };
    const entry: Entry = {
      tenantId,
      conversationId,
      loaded: row ? row.version : null,
      version: row ? row.version : 0,
      stored,
      outbound: row?.outbound ?? {},
      before: new Map(),
    };
    for (const [cycle, json] of cycleRowsJson(entry)) entry.before.set(cycle, json);
    entries.set(key, entry);
  }
  return entries;
}

function withSchedule(context: Context, tenantId: TenantId, metrics: MetricsState): MetricsState {
  const schedule = metrics.inboxId === null ? null : context.scheduleFor(tenantId, metrics.inboxId);
  return { ...metrics, schedule };
}

function isMetricsEvent(event: RecordedEvent): boolean {
  return isConversationEvent(event) || event.type === 'SlaBreached';
}

/** The UTC day of an instant, as the daily counters key it. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function keysOf(metrics: MetricsState, labels: readonly string[], agentId: string | null): Keys {
  const keys: [AnalyticsDimension, string][] = [['tenant', '']];
  if (metrics.inboxId !== null) keys.push(['inbox', metrics.inboxId]);
  if (metrics.platform !== null) keys.push(['channel', metrics.platform]);
  if (agentId !== null) keys.push(['agent', agentId]);
  for (const label of new Set(labels)) keys.push(['label', label]);
  return keys;
}

function count(
  deltas: Map<string, Record<Counter, number>>,
  tenantId: string,
  day: string,
  keys: Keys,
  counter: Counter,
  by: number,
): void {
  for (const [dimension, key] of keys) {
    const id = JSON.stringify([tenantId, day, dimension, key]);
    let row = deltas.get(id);
    if (!row) {
      row = { opened: 0, resolved: 0, reopened: 0, messages_in: 0, messages_out: 0 };
      deltas.set(id, row);
    }
    row[counter] += by;
  }
}

const sum = (metrics: MetricsState, field: 'messagesIn' | 'messagesOut') =>
  metrics.cycles.reduce((total, facts) => total + facts[field], 0);

/** Folds one event of the entry's stream (the next version) and counts what it changed. */
function step(
  context: Context,
  entry: Entry,
  event: RecordedEvent,
  deltas: Map<string, Record<Counter, number>>,
): void {
  entry.version = event.version;
  if (!isMetricsEvent(event)) return;
  const t = entry.tenantId;
  const before = entry.stored.metrics;
  const actor = (event.metadata as { actor?: Actor }).actor ?? null;
  let after = evolveMetrics(before, event as unknown as MetricsEvent, actor);
  if (event.type === 'ConversationStarted') after = withSchedule(context, t, after);
  const data = event.data as { at?: number; sentAt?: number; queuedAt?: number; clientMessageId?: string };
  const labels = after.labels;
  let outbound = entry.outbound;

  if (after.cycles.length > before.cycles.length) {
    const started = currentCycle(after)!;
    const keys = keysOf(after, labels, after.assigneeId);
    count(deltas, t, dayOf(started.startedAt), keys, started.reopened ? 'reopened' : 'opened', 1);
  }
  for (const facts of after.cycles) {
    const was = before.cycles.find((c) => c.cycle === facts.cycle);
    if (was && was.resolvedAt === null && facts.resolvedAt !== null) {
      const frozen = entry.stored.cycleLabels[String(facts.cycle)] ?? labels;
      count(deltas, t, dayOf(facts.resolvedAt), keysOf(after, frozen, facts.assigneeId), 'resolved', 1);
    }
  }
  const inbound = sum(after, 'messagesIn') - sum(before, 'messagesIn');
  if (inbound !== 0) {
    const keys = keysOf(after, labels, after.assigneeId);
    count(deltas, t, dayOf(data.sentAt ?? event.recordedAt), keys, 'messages_in', inbound);
  }
  const out = sum(after, 'messagesOut') - sum(before, 'messagesOut');
  const replyId = data.clientMessageId;
  if (out > 0 && replyId !== undefined) {
    const agentId = (event.data as { agentId?: string }).agentId ?? null;
    const day = dayOf(data.queuedAt ?? event.recordedAt);
    const keys = keysOf(after, labels, agentId);
    count(deltas, t, day, keys, 'messages_out', out);
    outbound = { ...outbound, [replyId]: { day, keys } };
  } else if (out < 0 && replyId !== undefined && outbound[replyId]) {
    const { day, keys } = outbound[replyId];
    count(deltas, t, day, keys, 'messages_out', out);
    const { [replyId]: _gone, ...rest } = outbound;
    outbound = rest;
  }

  const open = currentCycle(after);
  const cycleLabels =
    open && open.resolvedAt === null
      ? { ...entry.stored.cycleLabels, [String(open.cycle)]: [...labels] }
      : entry.stored.cycleLabels;
  entry.stored = { metrics: after, cycleLabels };
  entry.outbound = outbound;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A cycle's row and its responses' rows: a function of the stored fold alone. */
function cycleRows(entry: Entry, facts: CycleFacts) {
  const { metrics, cycleLabels } = entry.stored;
  const labels = [...(cycleLabels[String(facts.cycle)] ?? metrics.labels)];
  const first = facts.responses.find((response) => response.kind === 'first') ?? null;
  const cycle = [
    entry.tenantId,
    entry.conversationId,
    facts.cycle,
    metrics.inboxId,
    metrics.platform,
    facts.assigneeId,
    labels,
    iso(facts.startedAt),
    facts.reopened,
    iso(facts.resolvedAt),
    facts.resolution?.calendarMs ?? null,
    facts.resolution?.businessMs ?? null,
    iso(facts.firstCustomerAt),
    iso(first?.repliedAt ?? null),
    first?.agentId ?? null,
    first?.calendarMs ?? null,
    first?.businessMs ?? null,
    facts.messagesIn,
    facts.messagesOut,
    [...facts.slaBreached],
  ];
  const responses = facts.responses.map((response, index) => [
    entry.tenantId,
    entry.conversationId,
    facts.cycle,
    index + 1,
    response.kind,
    metrics.inboxId,
    metrics.platform,
    labels,
    response.agentId,
    iso(response.customerAt),
    iso(response.repliedAt),
    response.calendarMs,
    response.businessMs,
  ]);
  return { cycle, responses };
}

function cycleRowsJson(entry: Entry): Map<number, string> {
  return new Map(
    entry.stored.metrics.cycles.map((facts) => [facts.cycle, JSON.stringify(cycleRows(entry, facts))]),
  );
}

const CYCLE_COLUMNS = `tenant_id, conversation_id, cycle, inbox_id, platform, assignee_id, labels, started_at,
  reopened, resolved_at, resolution_calendar_ms, resolution_business_ms, first_customer_at,
  first_response_at, first_response_agent_id, first_response_calendar_ms, first_response_business_ms,
  messages_in, messages_out, sla_breached`;
const RESPONSE_COLUMNS = `tenant_id, conversation_id, cycle, seq, kind, inbox_id, platform, labels, agent_id,
  customer_at, replied_at, calendar_ms, business_ms`;

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/** Rows per multi-row VALUES statement: well below PostgreSQL's 65,535 parameters. */
const CHUNK = 1000;

/** Inserts rows with multi-row VALUES lists, in chunks; returns what the chunks returned. */
async function insertRows<T extends object>(
  tx: SqlQueryable,
  rows: readonly unknown[][],
  sql: (values: string) => string,
): Promise<T[]> {
  const returned: T[] = [];
  for (let from = 0; from < rows.length; from += CHUNK) {
    const chunk = rows.slice(from, from + CHUNK);
    let next = 1;
    const values = chunk
      .map((row) => {
        const list = placeholders(row.length, next);
        next += row.length;
        return `(${list})`;
      })
      .join(', ');
    returned.push(...(await tx.query<T>(sql(values), chunk.flat())));
  }
  return returned;
}

/**
 * Writes the changed conversations of a batch in a few statements (PERFORMANCE.md): each row
 * guarded by the version it was read at (a `Conflict` retries the batch), then the cycles that
 * changed and their responses.
 */
async function writeEntries(tx: SqlQueryable, entries: readonly Entry[]): Promise<void> {
  const encoded = entries.map((entry) => {
    const { schedule: _schedule, ...metrics } = entry.stored.metrics;
    const state = JSON.stringify({ ...entry.stored, metrics: { ...metrics, schedule: null } });
    return { entry, state, outbound: JSON.stringify(entry.outbound) };
  });
  const fresh = encoded.filter(({ entry }) => entry.loaded === null);
  if (fresh.length > 0) {
    const inserted = await tx.query(
      `INSERT INTO analytics_conversations (tenant_id, conversation_id, version, state, outbound)
       SELECT t, c, v, s::jsonb, o::jsonb
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[]) AS u(t, c, v, s, o)
       ON CONFLICT DO NOTHING RETURNING 1 AS ok`,
      [
        fresh.map(({ entry }) => entry.tenantId),
        fresh.map(({ entry }) => entry.conversationId),
        fresh.map(({ entry }) => entry.version),
        fresh.map(({ state }) => state),
        fresh.map(({ outbound }) => outbound),
      ],
    );
    if (inserted.length !== fresh.length) throw new Conflict('analytics row written meanwhile');
  }
  const known = encoded.filter(({ entry }) => entry.loaded !== null);
  if (known.length > 0) {
    const updated = await tx.query(
      `UPDATE analytics_conversations a SET version = u.v, state = u.s::jsonb, outbound = u.o::jsonb
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[]) AS u(t, c, v, s, o, l)
        WHERE a.tenant_id = u.t AND a.conversation_id = u.c AND a.version = u.l RETURNING 1 AS ok`,
      [
        known.map(({ entry }) => entry.tenantId),
        known.map(({ entry }) => entry.conversationId),
        known.map(({ entry }) => entry.version),
        known.map(({ state }) => state),
        known.map(({ outbound }) => outbound),
        known.map(({ entry }) => entry.loaded),
      ],
    );
    if (updated.length !== known.length) throw new Conflict('analytics row changed meanwhile');
  }
  const cycles: unknown[][] = [];
  const responses: unknown[][] = [];
  for (const entry of entries) {
    for (const facts of entry.stored.metrics.cycles) {
      const rows = cycleRows(entry, facts);
      if (entry.before.get(facts.cycle) === JSON.stringify(rows)) continue;
      cycles.push(rows.cycle);
      responses.push(...rows.responses);
    }
  }
  if (cycles.length === 0) return;
  await tx.query(
    `DELETE FROM analytics_responses WHERE (tenant_id, conversation_id, cycle) IN
       (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]))`,
    [cycles.map((row) => row[0]), cycles.map((row) => row[1]), cycles.map((row) => row[2])],
  );
  await insertRows(
    tx,
    cycles,
    (values) => `INSERT INTO analytics_cycles (${CYCLE_COLUMNS}) VALUES ${values}
       ON CONFLICT (tenant_id, conversation_id, cycle) DO UPDATE SET
         inbox_id = EXCLUDED.inbox_id, platform = EXCLUDED.platform, assignee_id = EXCLUDED.assignee_id,
         labels = EXCLUDED.labels, started_at = EXCLUDED.started_at, reopened = EXCLUDED.reopened,
         resolved_at = EXCLUDED.resolved_at, resolution_calendar_ms = EXCLUDED.resolution_calendar_ms,
         resolution_business_ms = EXCLUDED.resolution_business_ms,
         first_customer_at = EXCLUDED.first_customer_at, first_response_at = EXCLUDED.first_response_at,
         first_response_agent_id = EXCLUDED.first_response_agent_id,
         first_response_calendar_ms = EXCLUDED.first_response_calendar_ms,
         first_response_business_ms = EXCLUDED.first_response_business_ms,
         messages_in = EXCLUDED.messages_in, messages_out = EXCLUDED.messages_out,
         sla_breached = EXCLUDED.sla_breached`,
  );
  await insertRows(
    tx,
    responses,
    (values) => `INSERT INTO analytics_responses (${RESPONSE_COLUMNS}) VALUES ${values}`,
  );
}

/** Adds a batch's counter deltas in one upsert, then drops the rows a failed reply brought to zero. */
async function writeDeltas(tx: SqlQueryable, deltas: Map<string, Record<Counter, number>>): Promise<void> {
  const rows: unknown[][] = [];
  for (const [id, row] of deltas) {
    const [tenantId, day, dimension, key] = JSON.parse(id) as string[];
    if (Object.values(row).every((n) => n === 0)) continue;
    rows.push([
      tenantId,
      day,
      dimension,
      key,
      row.opened,
      row.resolved,
      row.reopened,
      row.messages_in,
      row.messages_out,
    ]);
  }
  const totals = await insertRows<{
    tenant_id: string;
    day: string;
    dimension: string;
    key: string;
    total: number;
  }>(
    tx,
    rows,
    (values) => `INSERT INTO analytics_daily
         (tenant_id, day, dimension, key, opened, resolved, reopened, messages_in, messages_out)
       VALUES ${values}
       ON CONFLICT (tenant_id, day, dimension, key) DO UPDATE SET
         opened = analytics_daily.opened + EXCLUDED.opened,
         resolved = analytics_daily.resolved + EXCLUDED.resolved,
         reopened = analytics_daily.reopened + EXCLUDED.reopened,
         messages_in = analytics_daily.messages_in + EXCLUDED.messages_in,
         messages_out = analytics_daily.messages_out + EXCLUDED.messages_out
       RETURNING tenant_id, day::text AS day, dimension, key,
         (opened::bigint + resolved + reopened + messages_in + messages_out)::int AS total`,
  );
  // A reply that failed took back the only count of a row: no row, as a rebuild would leave it.
  const empty = totals.filter((row) => row.total === 0);
  if (empty.length === 0) return;
  await tx.query(
    `DELETE FROM analytics_daily d USING unnest($1::text[], $2::date[], $3::text[], $4::text[]) AS u(t, y, m, k)
      WHERE d.tenant_id = u.t AND d.day = u.y AND d.dimension = u.m AND d.key = u.k
        AND opened = 0 AND resolved = 0 AND reopened = 0 AND messages_in = 0 AND messages_out = 0`,
    [
      empty.map((r) => r.tenant_id),
      empty.map((r) => r.day),
      empty.map((r) => r.dimension),
      empty.map((r) => r.key),
    ],
  );
}
