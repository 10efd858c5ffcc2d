import { summarizeDurations, tenantId, type ConversationCommand } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

/**
 * #16: reports.overview and reports.metrics compute count, median, p90 and buckets in SQL
 * (`percentile_disc` and the domain's buckets); the answer must equal the domain's
 * `summarizeDurations` over the same rows of the analytics tables (AG1-AG3).
 */
const demo = tenantId('demo');
const HOUR = 3_600_000;
/** First-response waits that fall in every bucket, with ties and both ends of a bucket. */
const WAITS = [
  0,
  5 * 60_000,
  59 * 60_000,
  HOUR,
  HOUR,
  3.5 * HOUR,
  4 * HOUR,
  7 * HOUR,
  9 * HOUR,
  23 * HOUR,
  30 * HOUR,
];

describe.each(API_BACKENDS)('report summaries in SQL on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    const now = h.now();
    const ask = (conversationId: string, command: ConversationCommand, actor: object) =>
      h.services.grains
        .conversation(demo, conversationId)
        .ask(command, { metadata: { actor: actor as never } });
    for (const [i, wait] of WAITS.entries()) {
      const id = `sum-${i}`;
      await ask(
        id,
        {
          type: 'ReceiveInboundMessage',
          data: {
            conversationId: id,
            inboxId: 'support',
            platform: 'webchat',
            externalMessageId: `sum-m${i}`,
            contact: { id: `c-sum-${i}`, name: 'Casey', handle: 'casey' },
            content: { type: 'text', text: 'hello' },
            sentAt: now - wait,
          },
        },
        { kind: 'customer', id: `c-sum-${i}` },
      );
      const agent = i % 2 === 0 ? 'ada' : 'ana';
      await ask(
        id,
        {
          type: 'QueueReply',
          data: {
            clientMessageId: `sum-r${i}`,
            agentId: agent,
            content: { type: 'text', text: 'on it' },
            tag: null,
            now,
            templates: [],
          },
        },
        { kind: 'agent', id: agent },
      );
      if (i % 3 === 0) {
        await ask(
          id,
          { type: 'SetStatus', data: { status: 'resolved', at: now } },
          { kind: 'agent', id: agent },
        );
      }
    }
    await h.settle();
    await h.services.analytics.settled();
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  /** The rows of today's range, summarized by the domain. */
  const expected = async (sql: string, params: unknown[]) => {
    const rows = await h.services.db.sql.query<{ ms: string }>(sql, params);
    return summarizeDurations(rows.map((row) => Number(row.ms)));
  };

  it.skipIf(!enabled)(
    '[AG1-AG3] the overview’s summaries equal summarizeDurations over the same rows',
    async () => {
      const day = new Date(h.now()).toISOString().slice(0, 10);
      const overview = await ada.reports.overview({ from: day, to: day });
      const range = [`${day}T00:00:00Z`, new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString()];
      const firsts = await expected(
        `SELECT calendar_ms::text AS ms FROM analytics_responses
        WHERE tenant_id = 'demo' AND kind = 'first' AND replied_at >= $1 AND replied_at < $2`,
        range,
      );
      expect(firsts.count).toBeGreaterThanOrEqual(WAITS.length);
      expect(Object.values(firsts.buckets).every((n) => n > 0)).toBe(true);
      expect(overview.firstResponse).toEqual(firsts);
      expect(overview.resolution).toEqual(
        await expected(
          `SELECT resolution_calendar_ms::text AS ms FROM analytics_cycles
          WHERE tenant_id = 'demo' AND resolved_at >= $1 AND resolved_at < $2`,
          range,
        ),
      );
      const byAgent = await ada.reports.metrics({ from: day, to: day, by: 'agent', basis: 'business' });
      for (const agent of ['ada', 'ana']) {
        const row = byAgent.rows.find((each) => each.key === agent);
        expect(row?.firstResponse).toEqual(
          await expected(
            `SELECT business_ms::text AS ms FROM analytics_responses
            WHERE tenant_id = 'demo' AND kind = 'first' AND agent_id = $3 AND replied_at >= $1 AND replied_at < $2`,
            [...range, agent],
          ),
        );
      }
    },
  );
});
