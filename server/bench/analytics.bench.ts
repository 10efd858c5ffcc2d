/**
 * `npm run bench:analytics` (#16): the analytics projection's rebuild against a plain SELECT of the
 * same rows in the same run, the reports' query, and time travel. Uses PostgreSQL when DATABASE_URL
 * is set, else PGlite in a scratch directory. Not a test: it asserts nothing.
 *
 * The log is made by the domain's own conversation decider (customer messages, assignment, replies
 * with their sending, sent and delivered steps, resolutions and reopenings), spread over 30 days,
 * and inserted in bulk. BENCH_CONVERSATIONS (10000) and BENCH_EXCHANGES (17 per conversation, about
 * 6 events each: about 1,000,000 events in all) size it; the last line is the ratio the issue asks for.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  conversation,
  streamId,
  tenantId,
  type ConversationCommand,
  type ConversationState,
  type JsonObject,
} from '@parley/domain';
import { createCallerFactory } from '../src/api/trpc';
import { reportsRouter } from '../src/api/routers/reports';
import { openDatabase } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { conversationGrain } from '../src/grains';
import { stateAt } from '../src/history/time-travel';
import { rebuildAnalytics } from '../src/projections/analytics';
import { SqlEventStore } from '../src/store/sql-store';
import { percentile, scratchLocation, table } from './support';

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 10_000);
const EXCHANGES = Number(process.env.BENCH_EXCHANGES ?? 17);
const LONG_EVENTS = 1_000;
const DAYS = 30;
const DAY = 86_400_000;
const MINUTE = 60_000;
const AGENTS = ['ana', 'ben', 'chloe', 'dan', 'eve', 'fay', 'gil', 'hal'];
const tenant = tenantId('bench');
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** A small deterministic generator, so two runs build the same log. */
let seed = 16;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

interface Row {
  readonly stream: string;
  readonly version: number;
  readonly type: string;
  readonly data: JsonObject;
  readonly actor: JsonObject;
  readonly at: number;
}

/** One conversation's events, decided one command at a time, as the grain would. */
function conversationEvents(id: string, start: number, exchanges: number): Row[] {
  const rows: Row[] = [];
  let state: ConversationState = conversation.initialState();
  let now = start;
  const agent = AGENTS[Math.floor(random() * AGENTS.length)]!;
  const run = (command: ConversationCommand, actor: JsonObject) => {
    for (const event of conversation.decide(command, state)) {
      state = conversation.evolve(state, event);
      rows.push({
        stream: `conversation-${id}`,
        version: rows.length + 1,
        type: event.type,
        data: event.data,
        actor,
        at: now,
      });
    }
  };
  const customer = { actor: { kind: 'customer', id: `c-${id}` } };
  const human = { actor: { kind: 'agent', id: agent } };
  const system = { actor: { kind: 'system', id: 'dispatcher' } };
  for (let n = 0; n < exchanges; n++) {
    now += Math.floor(random() * 90 * MINUTE) + MINUTE;
    run(
      {
        type: 'ReceiveInboundMessage',
        data: {
          conversationId: id,
          inboxId: `inbox-${id.length % 3}`,
          platform: 'webchat',
          externalMessageId: `${id}-m${n}`,
          contact: { id: `c-${id}`, name: 'Casey', handle: 'casey' },
          content: { type: 'text', text: `message ${n}` },
          sentAt: now,
        },
      },
      customer,
    );
    if (n === 0)
      run({ type: 'AddLabel', data: { label: ['billing', 'shipping', 'vip'][n % 3]!, at: now } }, human);
    if (state?.assigneeId === null)
      run({ type: 'AssignConversation', data: { agentId: agent, at: now } }, human);
    now += Math.floor(random() * 240 * MINUTE) + MINUTE;
    const clientMessageId = `${id}-r${n}`;
    run(
      {
        type: 'QueueReply',
        data: {
          clientMessageId,
          agentId: agent,
          content: { type: 'text', text: `reply ${n}` },
          tag: null,
          now,
          templates: [],
        },
      },
      human,
    );
    run({ type: 'MarkReplySending', data: { clientMessageId, now } }, system);
    run(
      {
        type: 'MarkReplySent',
        data: { clientMessageId, platformMessageId: `p-${clientMessageId}`, at: now },
      },
      system,
    );
    run(
      {
        type: 'RecordDeliveryStatus',
        data: { platformMessageId: `p-${clientMessageId}`, status: 'delivered', at: now },
      },
      system,
    );
    if (n % 5 === 4) run({ type: 'SetStatus', data: { status: 'resolved', at: now } }, human);
  }
  return rows;
}

/** A conversation with at least `events` events: more exchanges until it has them. */
function longConversation(id: string, start: number, events: number): Row[] {
  for (let exchanges = Math.ceil(events / 5); ; exchanges += 10) {
    const rows = conversationEvents(id, start, exchanges);
    if (rows.length >= events) return rows.slice(0, events);
  }
}

const location = await scratchLocation(
  process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'parley-bench-analytics-')),
);
const db = await openDatabase(location.options);
await migrate(db.sql);
console.log(
  `bench:analytics on ${location.label}: ${CONVERSATIONS} conversations, ${EXCHANGES} exchanges each\n`,
);
const results: (string | number)[][] = [['measure', 'value']];

try {
  const now = Date.now();
  const first = now - DAYS * DAY;
  for (let day = 0; day <= DAYS + 2; day++) {
    await db.sql.query('SELECT parley_ensure_event_partition($1::date)', [
      new Date(first + day * DAY).toISOString().slice(0, 10),
    ]);
  }

  progress('building the log');
  let written = 0;
  let pending: Row[] = [];
  const streams: [string, number][] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const values: string[] = [];
    const params: unknown[] = [];
    for (const row of pending) {
      const o = params.length;
      values.push(`('bench', $${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}, $${o + 7})`);
      params.push(
        row.stream,
        row.version,
        randomUUID(),
        row.type,
        JSON.stringify(row.data),
        JSON.stringify(row.actor),
        new Date(row.at),
      );
    }
    await db.sql.query(
      `INSERT INTO events (tenant_id, stream_id, version, event_id, type, data, metadata, recorded_at) VALUES ${values.join(', ')}`,
      params,
    );
    written += pending.length;
    pending = [];
  };
  const add = async (rows: Row[]) => {
    streams.push([rows[0]!.stream, rows.length]);
    for (const row of rows) {
      pending.push(row);
      if (pending.length >= 1000) await flush();
    }
  };
  const started = performance.now();
  for (let c = 0; c < CONVERSATIONS; c++) {
    // Starts spread over the 30 days, each conversation a day or two long at most.
    await add(conversationEvents(`b${c}`, first + Math.floor(random() * (DAYS - 2) * DAY), EXCHANGES));
    if (c % 1000 === 999) progress(`${c + 1} conversations, ${written} events`);
  }
  const long = longConversation('long', first + DAY, LONG_EVENTS);
  // Its times must stay inside the partitions made above: squeeze it into the first days.
  const span = long.at(-1)!.at - long[0]!.at;
  const squeezed = long.map((row, i) => ({
    ...row,
    at: long[0]!.at + Math.floor((i / long.length) * Math.min(span, 5 * DAY)),
  }));
  await add(squeezed);
  await flush();
  for (let i = 0; i < streams.length; i += 1000) {
    const part = streams.slice(i, i + 1000);
    await db.sql.query(
      `INSERT INTO streams (tenant_id, stream_id, version) SELECT 'bench', s, v FROM unnest($1::text[], $2::int[]) AS t(s, v)`,
      [part.map(([s]) => s), part.map(([, v]) => v)],
    );
  }
  const [count] = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM events`);
  progress(`log built: ${count!.n} events in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  results.push(['events in the log', count!.n]);

  const store = await SqlEventStore.open({ db, archiveDir: '/nonexistent-bench-archive' });

  progress('plain SELECT of the same rows, in the log order, pages of 1000');
  let t = performance.now();
  let raw = 0;
  let after = { tx: '0', pos: '0' };
  for (;;) {
    const page = await db.sql.query<{ tx: string; pos: string }>(
      `SELECT tenant_id, stream_id, version, event_id, type, data, metadata, recorded_at, tx_id::text AS tx, position::text AS pos
         FROM events WHERE (tx_id, position) > ($1::xid8, $2::bigint) ORDER BY tx_id, position LIMIT 1000`,
      [after.tx, after.pos],
    );
    if (page.length === 0) break;
    raw += page.length;
    after = { tx: page.at(-1)!.tx, pos: page.at(-1)!.pos };
  }
  const rawRate = raw / ((performance.now() - t) / 1000);
  results.push(['plain SELECT, events/s', Math.round(rawRate)]);

  progress('analytics rebuild (npm run parley -- projections rebuild analytics)');
  t = performance.now();
  let shown = 0;
  const rebuilt = await rebuildAnalytics({
    store,
    db,
    onProgress: (p) => {
      const done = p.events;
      if (done - shown >= 100_000) {
        shown = done;
        progress(`rebuild: ${done} events`);
      }
    },
  });
  const rebuildRate = rebuilt.events / ((performance.now() - t) / 1000);
  results.push(['analytics rebuild, events/s', Math.round(rebuildRate)]);

  progress('report queries: 30 days, per agent, in business hours');
  const caller = createCallerFactory(reportsRouter)({
    services: { db },
    resolveSession: () =>
      Promise.resolve({ tenantId: tenant, agent: { id: 'ada', role: 'admin', name: 'Ada' } }),
  } as never);
  const range = {
    from: new Date(now - 29 * DAY).toISOString().slice(0, 10),
    to: new Date(now).toISOString().slice(0, 10),
    basis: 'business' as const,
  };
  const reportTimes: number[] = [];
  for (let i = 0; i < 30; i++) {
    const q = performance.now();
    const answer = await caller.metrics({ ...range, by: 'agent' });
    reportTimes.push(performance.now() - q);
    if (i === 0) progress(`report: ${answer.rows.length} agents`);
  }
  reportTimes.sort((a, b) => a - b);
  results.push([
    'report query (30 days, per agent, business) p99 ms',
    percentile(reportTimes, 99).toFixed(1),
  ]);

  progress('time travel: a 1000-event conversation at a random time');
  const travel: number[] = [];
  const from = squeezed[0]!.at;
  const to = squeezed.at(-1)!.at;
  for (let i = 0; i < 200; i++) {
    const q = performance.now();
    await stateAt({ store }, conversationGrain, tenant, streamId('conversation-long'), {
      time: from + Math.floor(random() * (to - from)),
    });
    travel.push(performance.now() - q);
  }
  travel.sort((a, b) => a - b);
  results.push(['conversation at a time (1000 events) p99 ms', percentile(travel, 99).toFixed(1)]);
  results.push(['board at a time (2000 cards) p99 ms', 'not measured: boards.at is not built']);
  await store.close();

  console.log(table(results));
  console.log(`analytics rebuild ratio to raw read: ${(rebuildRate / rawRate).toFixed(2)}`);
} finally {
  await db.close();
  await location.drop();
}
