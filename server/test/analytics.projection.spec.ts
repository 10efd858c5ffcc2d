import {
  evolveMetrics,
  initialMetricsState,
  isDomainError,
  tenantId,
  type Actor,
  type ConversationCommand,
  type MetricsState,
  summarizeDurations,
} from '@parley/domain';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dumpAnalytics,
  rebuildAnalytics,
  startAnalyticsProjection,
  type AnalyticsProjection,
} from '../src/projections/analytics';
import { runCli } from '../src/cli';
import { isConversationEvent } from '../src/projections/conversation-events';
import { START } from '../src/store/checkpoint';
import { createGrainRuntime } from '../src/actors/runtime';
import { createSqlSnapshotStore } from '../src/actors/sql-snapshots';
import { createLocalBroadcast } from '../src/broadcast/local';
import { addDays, utcDay } from '../src/db/partitions';
import { createGrains } from '../src/grains';
import { archiveBefore } from '../src/store/archive';
import { SqlEventStore } from '../src/store/sql-store';
import { freshPglite, freshPostgres, POSTGRES_URL } from './support/databases';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

/**
 * #16: the analytics projection. Conversations are driven through the real grains (and the API for
 * replies and status), the live tables are read, and a rebuild from the log must give the same rows.
 */
const demo = tenantId('demo');
const MINUTE = 60_000;
const HUMAN: Actor = { kind: 'agent', id: 'ada' };
const BOT: Actor = { kind: 'system', id: 'bot' };

describe.each(API_BACKENDS)('analytics projection on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let live: AnalyticsProjection;
  let extra: AnalyticsProjection | undefined;
  let counter = 0;

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    live = h.services.analytics;
  });
  afterAll(async () => {
    await extra?.stop();
    await h?.dispose();
  });

  const ask = async (conversationId: string, command: ConversationCommand, actor: Actor = HUMAN) => {
    try {
      await h.services.grains
        .conversation(demo, conversationId)
        .ask(command, { metadata: { actor: actor as never } });
      return true;
    } catch (error) {
      if (isDomainError(error)) return false; // a rule said no: the log is unchanged
      throw error;
    }
  };
  const inbound = (conversationId: string, text = 'hello') =>
    ask(conversationId, {
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'webchat',
        externalMessageId: `m-${++counter}`,
        contact: { id: `c-${conversationId}`, name: 'Casey', handle: 'casey' },
        content: { type: 'text', text },
        sentAt: h.now(),
      },
    });
  const reply = (conversationId: string, clientMessageId: string, actor: Actor = HUMAN) =>
    ask(
      conversationId,
      {
        type: 'QueueReply',
        data: {
          clientMessageId,
          agentId: 'ada',
          content: { type: 'text', text: 'on it' },
          tag: null,
          now: h.now(),
          templates: [],
        },
      },
      actor,
    );
  const status = (conversationId: string, to: 'open' | 'resolved') =>
    ask(conversationId, { type: 'SetStatus', data: { status: to, at: h.now() } });

  /** Every event is in the tables: the workflow engine has finished and the projection read it all. */
  const settled = async () => {
    await h.settle();
    await live.settled();
  };

  const tenantTotals = async (): Promise<Record<string, number>> => {
    const [row] = await h.services.db.sql.query<Record<string, number>>(
      `SELECT coalesce(sum(opened), 0)::int AS opened, coalesce(sum(resolved), 0)::int AS resolved,
              coalesce(sum(reopened), 0)::int AS reopened, coalesce(sum(messages_in), 0)::int AS messages_in,
              coalesce(sum(messages_out), 0)::int AS messages_out
         FROM analytics_daily WHERE tenant_id = 'demo' AND dimension = 'tenant'`,
    );
    return row!;
  };

  /** The metrics fold of a conversation straight from its stream: what the tables must say. */
  const folded = async (conversationId: string): Promise<MetricsState> => {
    let state = initialMetricsState(null);
    const events = await h.services.store.readStream(demo, `conversation-${conversationId}` as never);
    for (const event of events) {
      if (!isConversationEvent(event)) continue;
      const actor = (event.metadata as { actor?: Actor }).actor ?? null;
      state = evolveMetrics(state, event, actor);
    }
    return state;
  };

  it.skipIf(!enabled)(
    'keeps per-cycle facts and daily counters live: first and next responses, resolution, reopen',
    async () => {
      await settled();
      const totalsBefore = await tenantTotals();
      const c = `an-${++counter}`;
      await inbound(c);
      h.advance(2 * MINUTE);
      // Replies go straight to the grain, as the API queues them (actor: the agent): the API's would
      // also go out through the channel's outbox, which fails them here (no route to this contact).
      await reply(c, `${c}-r1`);
      h.advance(MINUTE);
      await inbound(c, 'still there?');
      h.advance(5 * MINUTE);
      await reply(c, `${c}-bot`, BOT); // a bot's reply stops no clock
      h.advance(5 * MINUTE);
      await reply(c, `${c}-r2`);
      h.advance(10 * MINUTE);
      await ada.conversations.resolve({ conversationId: c });
      h.advance(60 * MINUTE);
      await ada.conversations.reopen({ conversationId: c });
      await inbound(c, 'one more thing');
      h.advance(MINUTE);
      await reply(c, `${c}-r3`);
      await settled();

      const cycles = await h.services.db.sql.query<Record<string, unknown>>(
        `SELECT cycle, reopened, resolved_at IS NOT NULL AS resolved, resolution_calendar_ms::int AS resolution,
                first_response_calendar_ms::int AS first, first_response_business_ms::int AS first_business,
                first_response_agent_id AS agent, messages_in, messages_out, inbox_id, platform
           FROM analytics_cycles WHERE tenant_id = 'demo' AND conversation_id = $1 ORDER BY cycle`,
        [c],
      );
      expect(cycles.map(({ resolution: _r, first: _f, first_business: _b, ...rest }) => rest)).toEqual([
        {
          cycle: 1,
          reopened: false,
          resolved: true,
          agent: 'ada',
          messages_in: 2,
          messages_out: 3,
          inbox_id: 'support',
          platform: 'webchat',
        },
        {
          cycle: 2,
          reopened: true,
          resolved: false,
          agent: 'ada',
          messages_in: 1,
          messages_out: 1,
          inbox_id: 'support',
          platform: 'webchat',
        },
      ]);
      // The clock moved by whole minutes; the wall clock adds the test's own milliseconds.
      const within = (value: unknown, ms: number) => {
        expect(Number(value)).toBeGreaterThanOrEqual(ms);
        expect(Number(value)).toBeLessThan(ms + 30_000);
      };
      within(cycles[0]!.first, 2 * MINUTE);
      expect(cycles[0]!.first_business).toBe(cycles[0]!.first); // no schedule: 24/7
      within(cycles[0]!.resolution, 23 * MINUTE);
      within(cycles[1]!.first, MINUTE);
      const responses = await h.services.db.sql.query<{ cycle: number; kind: string; ms: number }>(
        `SELECT cycle, kind, calendar_ms::int AS ms FROM analytics_responses
          WHERE tenant_id = 'demo' AND conversation_id = $1 ORDER BY cycle, seq`,
        [c],
      );
      expect(responses.map((r) => [r.cycle, r.kind])).toEqual([
        [1, 'first'],
        [1, 'next'],
        [2, 'first'],
      ]);
      within(responses[1]!.ms, 10 * MINUTE); // the bot's reply at 5 minutes did not stop it

      // The daily counters moved by this conversation alone: opened, resolved, reopened, 3 in, 4 out.
      const totals = await tenantTotals();
      expect(Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v - totalsBefore[k]!]))).toEqual({
        opened: 1,
        resolved: 1,
        reopened: 1,
        messages_in: 3,
        messages_out: 4,
      });
      const [agentRow] = await h.services.db.sql.query<{ out: number }>(
        `SELECT sum(messages_out)::int AS out FROM analytics_daily
          WHERE tenant_id = 'demo' AND dimension = 'agent' AND key = 'ada'`,
      );
      expect(agentRow!.out).toBeGreaterThanOrEqual(4);

      // The same facts as the domain's fold of the stream.
      const state = await folded(c);
      expect(state.cycles.map((f) => f.responses.map((r) => r.calendarMs))).toEqual([
        responses.filter((r) => r.cycle === 1).map((r) => r.ms),
        responses.filter((r) => r.cycle === 2).map((r) => r.ms),
      ]);
    },
  );

  it.skipIf(!enabled)(
    'reports.overview and reports.metrics summarize the tables with the domain rules; agents are FORBIDDEN',
    async () => {
      await settled();
      // The days the facts fall on: the test's clock runs ahead of the wall clock by the minutes it
      // advanced, so late in a UTC day they span two days.
      const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const [from, to] = [dayOf(Math.min(Date.now(), h.now()) - 3 * 60 * MINUTE), dayOf(h.now())];
      const overview = await ada.reports.overview({ from, to });
      const [firsts] = await h.services.db.sql.query<{ ms: string[] }>(
        `SELECT coalesce(array_agg(calendar_ms::text), '{}') AS ms FROM analytics_responses
          WHERE tenant_id = 'demo' AND kind = 'first' AND replied_at::date BETWEEN $1::date AND $2::date`,
        [from, to],
      );
      expect(overview.firstResponse).toEqual(summarizeDurations(firsts!.ms.map(Number)));
      expect(overview.firstResponse.count).toBeGreaterThan(0);
      expect(overview.counters.opened).toBeGreaterThan(0);
      // SQL's percentile_disc agrees with the domain's nearest rank (AG1).
      const [sql] = await h.services.db.sql.query<{ median: string; p90: string }>(
        `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY calendar_ms)::text AS median,
                percentile_disc(0.9) WITHIN GROUP (ORDER BY calendar_ms)::text AS p90
           FROM analytics_responses WHERE tenant_id = 'demo' AND kind = 'first' AND replied_at::date BETWEEN $1::date AND $2::date`,
        [from, to],
      );
      expect([overview.firstResponse.median, overview.firstResponse.p90]).toEqual([
        Number(sql!.median),
        Number(sql!.p90),
      ]);
      const byAgent = await ada.reports.metrics({ from, to, by: 'agent' });
      const adaRow = byAgent.rows.find((row) => row.key === 'ada');
      expect(adaRow?.firstResponse.count).toBeGreaterThan(0);
      const byChannel = await ada.reports.metrics({
        from,
        to,
        by: 'channel',
        basis: 'business',
      });
      expect(byChannel.rows.map((row) => row.key)).toContain('webchat');
      await expect(ada.reports.overview({ from: to, to: '2000-01-01' })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
      const ana = (await h.signIn('ana@demo.parley.test')).caller;
      await expect(ana.reports.overview({ from, to })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(ana.reports.metrics({ from, to, by: 'agent' })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    },
  );

  it.skipIf(!enabled)(
    'npm run parley -- projections rebuild analytics rebuilds the same rows, with progress',
    async () => {
      await settled();
      const before = await dumpAnalytics(h.services.db);
      const lines: string[] = [];
      await runCli(['projections', 'rebuild', 'analytics', '--tenant', 'demo'], (line) => lines.push(line), {
        dataDir: h.services.config.dataDir,
        env: {},
        withDb: (fn) => fn(h.services.db),
      });
      expect(lines.at(-1)).toMatch(/^rebuilt analytics for demo: \d+ events in/);
      expect(lines.some((line) => /rebuild: \d+\/\d+ events \d+% ETA/.test(line))).toBe(true);
      expect(await dumpAnalytics(h.services.db)).toEqual(before);
      await expect(
        runCli(['projections', 'rebuild', 'nothing'], () => undefined, {
          dataDir: h.services.config.dataDir,
          env: {},
          withDb: (fn) => fn(h.services.db),
        }),
      ).rejects.toThrow(/usage/);
    },
  );

  it.skipIf(!enabled)('a rebuild from the log gives the same rows in every table', async () => {
    await settled();
    const before = await dumpAnalytics(h.services.db);
    expect(before.analytics_cycles.length).toBeGreaterThan(0);
    const { events } = await rebuildAnalytics({ store: h.services.store, db: h.services.db });
    expect(events).toBeGreaterThan(0);
    expect(await dumpAnalytics(h.services.db)).toEqual(before);
    // One tenant's rebuild leaves the others' rows alone and gives its own back.
    await rebuildAnalytics({ store: h.services.store, db: h.services.db, tenantId: demo });
    expect(await dumpAnalytics(h.services.db)).toEqual(before);
  });

  it.skipIf(!enabled)('a restart from an old checkpoint (even the start) counts nothing twice', async () => {
    await settled();
    const before = await dumpAnalytics(h.services.db);
    await live.stop();
    await h.services.db.sql.query(
      `UPDATE subscription_checkpoints SET checkpoint = $1 WHERE name = 'analytics'`,
      [START],
    );
    live = extra = await startAnalyticsProjection({ store: h.services.store, db: h.services.db });
    await live.settled();
    expect(await dumpAnalytics(h.services.db)).toEqual(before);
  });

  type Op =
    | { op: 'in'; c: number }
    | { op: 'reply'; c: number; human: boolean }
    | { op: 'fail'; c: number }
    | { op: 'resolve'; c: number }
    | { op: 'reopen'; c: number }
    | { op: 'label'; c: number; label: string; add: boolean }
    | { op: 'wait'; minutes: number }
    | { op: 'restart' };
  const conv = fc.integer({ min: 0, max: 1 });
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('in' as const), c: conv }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('reply' as const), c: conv, human: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), c: conv }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('resolve' as const), c: conv }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const), c: conv }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('label' as const),
        c: conv,
        label: fc.constantFrom('vip', 'billing'),
        add: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 600 }) }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const) }) },
  );

  it.skipIf(!enabled)(
    'property: for random event sequences, with restarts, the live tables equal a rebuild and the fold',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
          const run = ++counter;
          const ids = [`p${run}-a`, `p${run}-b`];
          const replies: string[][] = [[], []];
          for (const [i, step] of ops.entries()) {
            switch (step.op) {
              case 'in':
                await inbound(ids[step.c]!);
                break;
              case 'reply': {
                const id = `${ids[step.c]}-r${i}`;
                if (await reply(ids[step.c]!, id, step.human ? HUMAN : BOT)) replies[step.c]!.push(id);
                break;
              }
              case 'fail': {
                const id = replies[step.c]!.pop();
                if (id)
                  await ask(ids[step.c]!, {
                    type: 'MarkReplyFailed',
                    data: { clientMessageId: id, reason: 'test', at: h.now() },
                  });
                break;
              }
              case 'resolve':
                await status(ids[step.c]!, 'resolved');
                break;
              case 'reopen':
                await status(ids[step.c]!, 'open');
                break;
              case 'label':
                await ask(ids[step.c]!, {
                  type: step.add ? 'AddLabel' : 'RemoveLabel',
                  data: { label: step.label, at: h.now() },
                });
                break;
              case 'wait':
                h.advance(step.minutes * MINUTE);
                break;
              case 'restart':
                await live.stop();
                live = extra = await startAnalyticsProjection({ store: h.services.store, db: h.services.db });
                break;
            }
          }
          await settled();
          const liveRows = await dumpAnalytics(h.services.db, demo);
          // The tables say what the domain's fold of each stream says: nothing lost, nothing twice.
          for (const id of ids) {
            const state = await folded(id);
            const [row] = await h.services.db.sql.query<{ n_in: number; n_out: number; responses: number }>(
              `SELECT coalesce(sum(messages_in), 0)::int AS n_in, coalesce(sum(messages_out), 0)::int AS n_out,
                      (SELECT count(*)::int FROM analytics_responses r
                        WHERE r.tenant_id = 'demo' AND r.conversation_id = $1) AS responses
                 FROM analytics_cycles WHERE tenant_id = 'demo' AND conversation_id = $1`,
              [id],
            );
            const sum = (f: (c: MetricsState['cycles'][number]) => number) =>
              state.cycles.reduce((total, c) => total + f(c), 0);
            expect(row).toEqual({
              n_in: sum((c) => c.messagesIn),
              n_out: sum((c) => c.messagesOut),
              responses: sum((c) => c.responses.length),
            });
          }
          const [daily] = await h.services.db.sql.query<{ n_in: number; n_out: number }>(
            `SELECT coalesce(sum(messages_in), 0)::int AS n_in, coalesce(sum(messages_out), 0)::int AS n_out
               FROM analytics_daily WHERE tenant_id = 'demo' AND dimension = 'tenant'`,
          );
          const [cycles] = await h.services.db.sql.query<{ n_in: number; n_out: number }>(
            `SELECT coalesce(sum(messages_in), 0)::int AS n_in, coalesce(sum(messages_out), 0)::int AS n_out
               FROM analytics_cycles WHERE tenant_id = 'demo'`,
          );
          expect(daily).toEqual(cycles);
          await rebuildAnalytics({ store: h.services.store, db: h.services.db, tenantId: demo });
          expect(await dumpAnalytics(h.services.db, demo)).toEqual(liveRows);
        }),
        { numRuns: kind === 'postgres' ? 12 : 15 },
      );
    },
  );
});

describe.each([
  ['pglite', freshPglite, true],
  ['postgres', freshPostgres, POSTGRES_URL !== undefined],
] as const)('analytics rebuild over archived days on %s', (_kind, create, enabled) => {
  it.skipIf(!enabled)('replays archived days too: the rows equal the live ones', async () => {
    const test = await create();
    const dir = join(test.dataDir, 'archive');
    const today = utcDay(Date.now());
    let now = Date.parse(`${addDays(today, -3)}T09:00:00Z`);
    const clock = () => now;
    const store = await SqlEventStore.open({ db: test.db, archiveDir: dir, clock });
    const broadcast = createLocalBroadcast();
    const runtime = createGrainRuntime({
      store,
      snapshots: createSqlSnapshotStore(test.db),
      broadcast,
      clock,
    });
    const grains = createGrains(runtime);
    const projection = await startAnalyticsProjection({ store, db: test.db });
    try {
      const acme = tenantId('acme');
      const meta = { metadata: { actor: HUMAN as never } };
      for (const [n, c] of ['old-1', 'old-2'].entries()) {
        await grains.conversation(acme, c).ask({
          type: 'ReceiveInboundMessage',
          data: {
            conversationId: c,
            inboxId: 'support',
            platform: 'telegram',
            externalMessageId: `x-${c}`,
            contact: { id: 'c1', name: 'Old', handle: 'old' },
            content: { type: 'text', text: 'hi' },
            sentAt: now,
          },
        });
        now += (n + 1) * 7 * MINUTE;
        await grains.conversation(acme, c).ask(
          {
            type: 'QueueReply',
            data: {
              clientMessageId: `${c}-r`,
              agentId: 'ada',
              content: { type: 'text', text: 'hello' },
              tag: null,
              now,
              templates: [],
            },
          },
          meta,
        );
        now += 30 * MINUTE;
        await grains
          .conversation(acme, c)
          .ask({ type: 'SetStatus', data: { status: 'resolved', at: now } }, meta);
      }
      await projection.settled();
      const live = await dumpAnalytics(test.db);
      expect(live.analytics_responses).toHaveLength(2);
      expect(await archiveBefore(test.db, { before: today, dir })).toContain(addDays(today, -3));
      const [left] = await test.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM events`);
      expect(left!.n).toBe(0); // every event is in the archive now
      store.archive.refresh(); // as the admin socket does after an archive
      const { events } = await rebuildAnalytics({ store, db: test.db });
      expect(events).toBeGreaterThan(0);
      expect(await dumpAnalytics(test.db)).toEqual(live);
    } finally {
      await projection.stop();
      await runtime.close();
      await broadcast.close();
      await store.close();
      await test.dispose();
    }
  });
});
