import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdFor } from '../src/channels/conversation-id';
import { whatsappText } from '../src/channels/simulators/payloads';
import {
  APPS,
  DATABASE_KINDS,
  eventually,
  FAST,
  openHarness,
  TENANT,
  type Harness,
} from './fixtures/channels/harness';
import { queueReply } from './support/queue-reply';

const CONVERSATIONS = 100;
const REPLIES_EACH = 20;

describe.each(DATABASE_KINDS)('channels under chaos on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(kind, {
      ...FAST,
      simulatorStatuses: false, // receipts are another test's business; this one counts sends
      dispatcher: {
        concurrency: 32,
        idleMs: 20,
        leaseMs: 30_000,
        maxAttempts: 10_000, // never give up: the claim is "after recovery every reply is delivered"
        backoff: { baseMs: 5, maxMs: 60 },
        breaker: { failureThreshold: 20, openMs: 20, maxOpenMs: 60 },
      },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it(
    '[OUT2] [OUT3] [OUT4] [OUT9] 2,000 replies through 50% failures and a 429 spell arrive exactly once, in order',
    { timeout: 180_000 },
    async () => {
      const sim = h.channels.simulators.whatsapp!;
      const conversations: string[] = [];
      for (let c = 0; c < CONVERSATIONS; c++) {
        const waId = `1666${String(c).padStart(7, '0')}`;
        const payload = whatsappText(
          APPS.whatsapp.externalId,
          { waId, name: `Chaos ${c}` },
          { id: `wamid.CHAOS${c}`, text: 'hi', at: Date.now() },
        );
        expect(
          (await h.postMeta(`/webhooks/whatsapp/${APPS.whatsapp.appId}`, payload, APPS.whatsapp.secret))
            .status,
        ).toBe(200);
        conversations.push(conversationIdFor(TENANT, 'whatsapp', 'wa', waId));
      }
      await eventually(
        async () => (await h.count('channel_contacts')) >= CONVERSATIONS,
        30_000,
        'conversations',
      );

      sim.setFaults({ errorRate: 0.5 });
      // Agents answer in parallel across conversations, one reply after another within each.
      await Promise.all(
        conversations.map(async (id, c) => {
          for (let r = 0; r < REPLIES_EACH; r++) {
            await queueReply({ db: h.database.db, grains: h.grains }, TENANT, id, {
              type: 'QueueReply',
              data: {
                clientMessageId: `c${c}-r${r}`,
                agentId: 'agent-1',
                content: { type: 'text', text: `c${c}-r${r}` },
                tag: null,
                now: Date.now(),
                templates: [],
              },
            });
          }
        }),
      );
      sim.setFaults({ rateLimit: { retryAfterSeconds: 1, forMs: 1_500 } }); // and a 429 spell on top
      await eventually(() => (sim.stats().accepted >= 1_000 ? true : undefined), 120_000, 'half delivered');
      const duringFaults = sim.stats();
      sim.clearFaults(); // recovery
      const total = CONVERSATIONS * REPLIES_EACH;
      await eventually(
        async () => (await h.count('channel_outbox', "status = 'sent'")) === total,
        120_000,
        'every reply sent',
      );

      const stats = sim.stats();
      expect(duringFaults.failedByFault).toBeGreaterThan(100);
      expect(duringFaults.rateLimited).toBeGreaterThan(0);
      // Exactly once: every reply accepted once, no key twice.
      const accepted = sim.accepted();
      expect(accepted).toHaveLength(total);
      expect(new Set(accepted.map((m) => m.idempotencyKey)).size).toBe(total);
      expect(stats.accepted).toBe(total);
      // In order per conversation.
      const byConversation = new Map<string, number[]>();
      for (const m of accepted) {
        const [c, r] = (m.body as { text: { body: string } }).text.body.slice(1).split('-r').map(Number) as [
          number,
          number,
        ];
        const list = byConversation.get(String(c)) ?? [];
        list.push(r);
        byConversation.set(String(c), list);
      }
      for (const list of byConversation.values())
        expect(list).toEqual(Array.from({ length: REPLIES_EACH }, (_, i) => i));
      // One ReplySent per reply, in the conversation streams too.
      let sent = 0;
      for (const id of conversations) {
        const events = await h.store.readStream(TENANT, `conversation-${id}` as never);
        sent += events.filter((e) => e.type === 'ReplySent').length;
        expect(events.filter((e) => e.type === 'ReplyFailed')).toHaveLength(0);
      }
      expect(sent).toBe(total);
    },
  );
});
