import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantId } from '@parley/domain';
import { seedDemoChannels } from '../src/channels';
import { routeDemoConversations, seedDemo } from '../src/seed';
import { eventually, FAST, openHarness, type Harness } from './fixtures/channels/harness';
import { queueReply } from './support/queue-reply';

describe("the simulators' fault API and the customer simulator", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness('pglite', FAST);
  });
  afterAll(async () => {
    await h.close();
  });

  it("[SIM2] faults are set, shown and cleared over each simulator's /_faults (JSON only)", async () => {
    const faultsUrl = `${h.channels.simulators.whatsapp!.url}/_faults`;
    const json = { 'content-type': 'application/json' };
    const set = await fetch(faultsUrl, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ outage: true, latencyMs: 5 }),
    });
    expect(set.status).toBe(200);
    expect(h.channels.simulators.whatsapp!.faults()).toMatchObject({ outage: true, latencyMs: 5 });
    expect(h.channels.simulators.meta!.faults().outage).toBe(false);
    const shown = (await (await fetch(faultsUrl)).json()) as { outage: boolean };
    expect(shown.outage).toBe(true);
    expect((await fetch(faultsUrl, { method: 'POST', headers: json, body: '{"errorRate": 7}' })).status).toBe(
      400,
    );
    expect((await fetch(faultsUrl, { method: 'DELETE' })).status).toBe(200);
    expect(h.channels.simulators.whatsapp!.faults().outage).toBe(false);
    const direct = await fetch(`${h.channels.simulators.telegram!.url}/_faults`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ rateLimit: { retryAfterSeconds: 3, forMs: 60_000 } }),
    });
    expect(direct.status).toBe(200);
    const limited = await fetch(`${h.channels.simulators.telegram!.url}/botX:Y/sendMessage`, {
      method: 'POST',
      body: JSON.stringify({ chat_id: 1, text: 'hi' }),
    });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({
      ok: false,
      error_code: 429,
      parameters: { retry_after: 3 },
    });
  });

  it('[SIM1] the customer simulator posts signed messages that become conversations (demo seed)', async () => {
    await seedDemoChannels({ channels: h.channels }, { tenant: 'demo' });
    await seedDemoChannels({ channels: h.channels }, { tenant: 'demo' }); // idempotent
    expect(await h.count('channel_apps', "tenant_id = 'demo'")).toBe(4);
    expect(await h.count('channels', "tenant_id = 'demo'")).toBe(5);
    const before = await h.count('channel_contacts');
    for (let i = 0; i < 4; i++) {
      expect(await h.channels.customers!.postOnce()).toBe(200);
    }
    // Its customers write to every simulated channel (the test tenant's too), each into a conversation.
    await eventually(async () => (await h.count('channel_contacts')) > before);
    await eventually(
      async () => (await h.count('webhook_inbox', "status IN ('pending', 'processing')")) === 0,
    );
    expect(await h.count('webhook_inbox', "status = 'dead'")).toBe(0);
  });

  it('[SIM1] replies to the seeded demo conversations go out on the demo WhatsApp channel', async () => {
    const demo = tenantId('demo');
    await seedDemoChannels({ channels: h.channels }, { tenant: 'demo' });
    await seedDemo({ db: h.database.db, grains: h.grains });
    // Only the workspace with a demo channel is routed: globex has none, and its replies stay unrouted.
    expect(await routeDemoConversations({ db: h.database.db })).toBe(4);
    expect(await routeDemoConversations({ db: h.database.db })).toBe(4); // idempotent
    expect(await h.count('channel_contacts', "conversation_id LIKE 'demo-%'")).toBe(4);
    expect(await h.count('channel_contacts', "tenant_id = 'globex'")).toBe(0);

    await queueReply({ db: h.database.db, grains: h.grains }, demo, 'demo-1', {
      type: 'QueueReply',
      data: {
        clientMessageId: 'seeded-reply',
        agentId: 'ana',
        content: { type: 'text', text: 'Let me check on order #1042.' },
        tag: null,
        now: Date.now(),
        templates: [],
      },
    });
    const status = async () =>
      (await h.grains.conversation(demo, 'demo-1').read()).state?.replies.get('seeded-reply')?.status;
    // Sent, then the simulator's receipts: they name the message, which settles its conversation
    // (the customer's WhatsApp id alone would point at a conversation the seed never made).
    await eventually(async () => (await status()) === 'read');
    const sent = h.channels.simulators.whatsapp!.accepted().find((each) => each.to === '34600111222');
    expect(sent).toBeDefined();
  });
});
