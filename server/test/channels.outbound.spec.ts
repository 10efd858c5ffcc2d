import type { RecordedEvent, ReplyContent } from '@parley/domain';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conversationIdFor } from '../src/channels/conversation-id';
import { metaText, telegramText, whatsappText } from '../src/channels/simulators/payloads';
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

const HOUR = 3_600_000;
let unique = 0;

describe.each(DATABASE_KINDS)('channels outbound on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(kind, { ...FAST, sendTimeoutMs: 300 });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    for (const sim of Object.values(h.channels.simulators)) sim.clearFaults();
  });

  /** A new WhatsApp customer writes (at `at`); resolves to the conversation id once it exists. */
  async function whatsappConversation(at = Date.now()): Promise<string> {
    const waId = `1555${String(++unique).padStart(7, '0')}`;
    const payload = whatsappText(
      APPS.whatsapp.externalId,
      { waId, name: `Customer ${unique}` },
      { id: `wamid.OUT${unique}`, text: 'hi', at },
    );
    expect(
      (await h.postMeta(`/webhooks/whatsapp/${APPS.whatsapp.appId}`, payload, APPS.whatsapp.secret)).status,
    ).toBe(200);
    const id = conversationIdFor(TENANT, 'whatsapp', 'wa', waId);
    await eventually(
      async () => (await h.grains.conversation(TENANT, id).read()).state !== null,
      10_000,
      'conversation',
    );
    return id;
  }
  const text = (body: string): ReplyContent => ({ type: 'text', text: body });
  const queue = (
    conversationId: string,
    clientMessageId: string,
    content: ReplyContent = text(clientMessageId),
    now = Date.now(),
  ) =>
    queueReply({ db: h.database.db, grains: h.grains }, TENANT, conversationId, {
      type: 'QueueReply',
      data: { clientMessageId, agentId: 'agent-1', content, tag: null, now, templates: [] },
    });
  const stream = (conversationId: string): Promise<RecordedEvent[]> =>
    h.store.readStream(TENANT, `conversation-${conversationId}` as never);
  const statusOf = async (conversationId: string, clientMessageId: string) =>
    (await h.grains.conversation(TENANT, conversationId).read()).state?.replies.get(clientMessageId)?.status;

  it('[OUT1] a reply and its outbox row commit together, or neither does', async () => {
    const id = await whatsappConversation();
    await h.channels.dispatcher.stop(); // look at the row before it is sent
    try {
      await queue(id, 'atomic-1');
      expect(
        await h.count('channel_outbox', `conversation_id = '${id}' AND client_message_id = 'atomic-1'`),
      ).toBe(1);
      await expect(queue(id, 'refused', text('   '))).rejects.toMatchObject({ code: 'TEXT_EMPTY' });
      await h.database.db.sql.exec('ALTER TABLE channel_outbox RENAME TO channel_outbox_away');
      await expect(queue(id, 'atomic-2')).rejects.toThrow();
      await h.database.db.sql.exec('ALTER TABLE channel_outbox_away RENAME TO channel_outbox');
      const types = (await stream(id))
        .filter((e) => e.type === 'ReplyQueued')
        .map((e) => (e.data as { clientMessageId: string }).clientMessageId);
      expect(types).toEqual(['atomic-1']);
      expect(await h.count('channel_outbox', `conversation_id = '${id}'`)).toBe(1);
    } finally {
      h.channels.dispatcher.start();
    }
    await eventually(async () => (await statusOf(id, 'atomic-1')) === 'read');
  });

  it('[OUT8] [SIM1] every step is an event: sending, sent with the platform id, then receipts', async () => {
    const id = await whatsappConversation();
    await queue(id, 'steps');
    await eventually(async () => (await statusOf(id, 'steps')) === 'read', 10_000, 'read');
    const events = (await stream(id)).filter(
      (e) => (e.data as { clientMessageId?: string }).clientMessageId === 'steps',
    );
    expect(events.map((e) => e.type)).toEqual([
      'ReplyQueued',
      'ReplySending',
      'ReplySent',
      'ReplyDelivered',
      'ReplyRead',
    ]);
    expect((events[2]!.data as { platformMessageId: string }).platformMessageId).toMatch(/^wamid\.SIM/);
    await eventually(
      async () => (await h.count('channel_outbox', `client_message_id = 'steps' AND status = 'sent'`)) === 1,
    );
  });

  it('[OUT2] replies of a conversation go out in queue order, even through failures', async () => {
    h.channels.simulators.whatsapp!.setFaults({ errorRate: 0.5, latencyMs: 5 });
    const a = await whatsappConversation();
    const b = await whatsappConversation();
    for (let i = 0; i < 6; i++) {
      await queue(a, `a${i}`);
      await queue(b, `b${i}`);
    }
    const finished = `conversation_id IN ('${a}', '${b}') AND status IN ('sent', 'dead')`;
    await eventually(async () => (await h.count('channel_outbox', finished)) === 12, 15_000, 'all finished');
    const accepted = h.channels.simulators
      .whatsapp!.accepted()
      .map((m) => (m.body as { text: { body: string } }).text.body);
    // A reply that ran out of attempts is missing, but none overtakes an earlier one.
    for (const prefix of ['a', 'b']) {
      const order = accepted.filter((t) => t.startsWith(prefix)).map((t) => Number(t.slice(1)));
      expect(order).toEqual([...order].sort((x, y) => x - y));
      expect(new Set(order).size).toBe(order.length);
    }
    expect(h.channels.simulators.whatsapp!.stats().failedByFault).toBeGreaterThan(0);
  });

  it('[OUT3] a 429 pauses the channel for Retry-After without counting an attempt', async () => {
    const id = await whatsappConversation();
    const sim = h.channels.simulators.whatsapp!;
    const limited = sim.stats().rateLimited;
    sim.setFaults({ rateLimit: { retryAfterSeconds: 1, forMs: 300 } });
    const started = Date.now();
    await queue(id, 'patient');
    await eventually(
      async () => (await statusOf(id, 'patient')) === 'sent' || (await statusOf(id, 'patient')) === 'read',
      10_000,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sim.stats().rateLimited).toBe(limited + 1);
    const [row] = await h.database.db.sql.query<{ attempts: number }>(
      `SELECT attempts FROM channel_outbox WHERE client_message_id = 'patient'`,
    );
    expect(row!.attempts).toBe(1);
  });

  it('[OUT4] the breaker opens on an outage, sends nothing while open, and closes after it', async () => {
    const sim = h.channels.simulators.whatsapp!;
    const ids = [await whatsappConversation(), await whatsappConversation(), await whatsappConversation()];
    const transitions: string[] = [];
    const key = `${TENANT}/wa`;
    sim.setFaults({ outage: true });
    const watch = setInterval(() => {
      const state = h.channels.dispatcher.breakers.state(key).kind;
      if (transitions.at(-1) !== state) transitions.push(state);
    }, 2);
    try {
      for (const [i, id] of ids.entries()) await queue(id, `outage-${i}`);
      await eventually(() => (transitions.includes('open') ? true : undefined), 5_000, 'breaker open');
      const during = sim.stats().requests;
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Open: at most the half-open trial got through meanwhile.
      expect(sim.stats().requests - during).toBeLessThanOrEqual(1);
      sim.clearFaults();
      await eventually(
        async () =>
          (await h.count('channel_outbox', "client_message_id LIKE 'outage-%' AND status = 'sent'")) +
            (await h.count('channel_outbox', "client_message_id LIKE 'outage-%' AND status = 'dead'")) ===
          3,
        10_000,
      );
    } finally {
      clearInterval(watch);
    }
    expect(transitions).toContain('half-open');
    expect(h.channels.dispatcher.breakers.state(key).kind).toBe('closed');
  });

  it('[OUT5] [OUT7] after the last attempt the reply fails, is compensated and offers retry and edit', async () => {
    const id = await whatsappConversation();
    h.channels.simulators.whatsapp!.setFaults({ outage: true });
    await queue(id, 'doomed');
    await eventually(async () => (await statusOf(id, 'doomed')) === 'failed', 15_000, 'failed');
    h.channels.simulators.whatsapp!.clearFaults();
    const failed = (await stream(id)).find((e) => e.type === 'ReplyFailed')!;
    expect(failed.data).toMatchObject({ clientMessageId: 'doomed', reason: 'DELIVERY_FAILED' });
    expect(failed.metadata).toMatchObject({ actions: ['retry', 'edit'] });
    const { state } = await h.grains.conversation(TENANT, id).read();
    expect(state?.awaitingCustomerSince).toBeNull();
    // The row follows the event by one statement.
    const row = await eventually(async () => {
      const [found] = await h.database.db.sql.query<{ status: string; attempts: number }>(
        `SELECT status, attempts FROM channel_outbox WHERE client_message_id = 'doomed'`,
      );
      return found?.status === 'dead' ? found : undefined;
    });
    expect(row.attempts).toBe(4);
  });

  it('[OUT6] a reply queued offline that crossed the 24-hour line fails with WINDOW_CLOSED and a template hint', async () => {
    const customerWroteAt = Date.now() - 25 * HOUR;
    const id = await whatsappConversation(customerWroteAt);
    const before = h.channels.simulators.whatsapp!.stats().accepted;
    await queue(id, 'late', text('sorry for the wait'), customerWroteAt + 23 * HOUR);
    await eventually(async () => (await statusOf(id, 'late')) === 'failed', 10_000);
    const failed = (await stream(id)).find((e) => e.type === 'ReplyFailed')!;
    // Decided by the conversation's MarkReplySending (CV6), which names the rule and the hint.
    expect(failed.data).toMatchObject({
      reason: 'WINDOW_CLOSED',
      rule: 'WA2',
      hint: expect.stringMatching(/template/) as unknown,
    });
    expect(h.channels.simulators.whatsapp!.stats().accepted).toBe(before);
    await eventually(
      async () => (await h.count('channel_outbox', `client_message_id = 'late' AND status = 'failed'`)) === 1,
    );
  });

  it('[OUT9] a send whose answer was lost is retried with the same key and delivered once', async () => {
    const id = await whatsappConversation();
    const sim = h.channels.simulators.whatsapp!;
    const before = sim.stats();
    sim.setFaults({ latencyMs: 400 }); // longer than the 300 ms send timeout: the answer never arrives
    await queue(id, 'ambiguous');
    await eventually(() => (sim.stats().accepted > before.accepted ? true : undefined), 10_000);
    sim.clearFaults();
    await eventually(
      async () => ['sent', 'delivered', 'read'].includes((await statusOf(id, 'ambiguous')) ?? ''),
      10_000,
    );
    expect(sim.stats().accepted).toBe(before.accepted + 1);
    expect(sim.stats().duplicates).toBeGreaterThan(before.duplicates);
  });

  it('[IN8] duplicate and out-of-order status webhooks leave one delivered and one read', async () => {
    h.channels.simulators.whatsapp!.setFaults({ outOfOrder: true, duplicateRate: 1 });
    const id = await whatsappConversation();
    await queue(id, 'scrambled');
    await eventually(async () => (await statusOf(id, 'scrambled')) === 'read', 10_000);
    await h.channels.simulators.whatsapp!.settled();
    await eventually(
      async () => (await h.count('webhook_inbox', "status IN ('pending', 'processing')")) === 0,
    );
    const types = (await stream(id))
      .filter((e) => (e.data as { clientMessageId?: string }).clientMessageId === 'scrambled')
      .map((e) => e.type);
    expect(types).toEqual(['ReplyQueued', 'ReplySending', 'ReplySent', 'ReplyDelivered', 'ReplyRead']);
  });

  it('[SIM1] Messenger, Instagram and Telegram replies are sent in their own shapes', async () => {
    const at = Date.now();
    await h.postMeta(
      `/webhooks/meta/${APPS.meta.appId}`,
      metaText('page', APPS.meta.page, 'psid-1', { mid: 'm_in1', text: 'hi', at }),
      APPS.meta.secret,
    );
    await h.postMeta(
      `/webhooks/meta/${APPS.meta.appId}`,
      metaText('instagram', APPS.meta.instagram, 'igsid-1', { mid: 'ig_in1', text: 'hi', at }),
      APPS.meta.secret,
    );
    await h.postTelegram(
      telegramText(555, { id: 424242, firstName: 'Tess' }, { id: 1, text: 'hi', at }),
      APPS.telegram.secret,
    );
    const conversations = [
      conversationIdFor(TENANT, 'messenger', 'ms', 'psid-1'),
      conversationIdFor(TENANT, 'instagram', 'ig', 'igsid-1'),
      conversationIdFor(TENANT, 'telegram', 'tg', '424242'),
    ];
    for (const id of conversations) {
      await eventually(async () => (await h.grains.conversation(TENANT, id).read()).state !== null);
      await queue(id, `hello-${id}`);
    }
    await eventually(
      async () => (await statusOf(conversations[0]!, `hello-${conversations[0]}`)) === 'read',
      10_000,
      'messenger read',
    );
    await eventually(
      async () => (await statusOf(conversations[1]!, `hello-${conversations[1]}`)) === 'read',
      10_000,
      'instagram read',
    );
    // Telegram bots get no receipts (TG5): sent is as far as it goes.
    await eventually(
      async () => (await statusOf(conversations[2]!, `hello-${conversations[2]}`)) === 'sent',
      10_000,
      'telegram sent',
    );
    expect(
      h.channels.simulators
        .meta!.accepted()
        .map((m) => (m.body as { recipient: { id: string } }).recipient.id),
    ).toEqual(expect.arrayContaining(['psid-1', 'igsid-1']));
    expect(h.channels.simulators.telegram!.accepted().at(-1)?.body).toMatchObject({
      chat_id: '424242',
      text: `hello-${conversations[2]}`,
    });
  });
});
