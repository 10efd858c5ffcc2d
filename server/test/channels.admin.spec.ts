import { tenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWebhooksCommand } from '../src/channels/cli';
import { metaSignature } from '../src/channels/signature';
import { whatsappText } from '../src/channels/simulators/payloads';
import { openApiHarness, serveHttp, type ApiHarness, type Caller } from './api.support';
import { eventually } from './fixtures/channels/harness';
import { queueReply as queueAgentReply } from './support/queue-reply';

const demo = tenantId('demo');
const WA_CHANNEL = '100000000000001'; // the demo seed's WhatsApp phone number id

async function code(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

describe('admin.channels: dead letters, secret rotation and the fault panel, per tenant', () => {
  let h: ApiHarness;
  let stop: () => Promise<void>;
  let ada: Caller;
  let gus: Caller;
  let ana: Caller;
  let baseUrl: string;

  /** Posts a WhatsApp webhook to demo's app, signed with `secret`. */
  const post = (secret: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    return fetch(`${baseUrl}/webhooks/whatsapp/demo-whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(secret, body) },
      body,
    });
  };
  /** Ana's text reply, queued with its outbox row as the API queues it. */
  const queueReply = (conversationId: string, clientMessageId: string, text: string) =>
    queueAgentReply(h.services, demo, conversationId, {
      type: 'QueueReply',
      data: {
        clientMessageId,
        agentId: 'ana',
        content: { type: 'text', text },
        tag: null,
        now: Date.now(),
        templates: [],
      },
    });
  const message = (id: string, phone = WA_CHANNEL) =>
    whatsappText(phone, { waId: '15550001111', name: 'Test' }, { id, text: 'hello', at: Date.now() });

  beforeAll(async () => {
    // The simulators (and their fault API) run here; api.support turns them off for other suites.
    process.env.PARLEY_SIMULATORS = 'on';
    process.env.PARLEY_CUSTOMER_SIMULATOR_MS = '0';
    h = await openApiHarness('pglite');
    const served = await serveHttp(h);
    stop = () => served.stop();
    baseUrl = served.url.replace(/\/trpc$/, '');
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
    ana = (await h.signIn('ana@demo.parley.test')).caller;
  });
  afterAll(async () => {
    await stop();
    await h.dispose();
    process.env.PARLEY_SIMULATORS = 'off';
  });

  it("[SIM2] an admin's faults reach only their tenant's simulated channels; bad ones change nothing", async () => {
    const whatsapp = h.services.channels.simulators.whatsapp!;
    expect(await ada.admin.channels.setFaults({ simulator: 'whatsapp', faults: { outage: true } })).toEqual({
      simulator: 'whatsapp',
      channels: 1,
    });
    expect(whatsapp.faultsFor(WA_CHANNEL).outage).toBe(true);
    expect(whatsapp.faults().outage).toBe(false); // nobody else's channel
    const overview = await ada.admin.channels.overview();
    expect(overview.simulatorsRunning).toBe(true);
    expect(overview.channels.find((c) => c.channelId === 'whatsapp')?.faults?.outage).toBe(true);

    // Globex has no simulated channel: its admin's faults and clearing reach none of demo's.
    expect(await gus.admin.channels.setFaults({ simulator: 'whatsapp', faults: { latencyMs: 9 } })).toEqual({
      simulator: 'whatsapp',
      channels: 0,
    });
    await gus.admin.channels.clearFaults({});
    expect(whatsapp.faultsFor(WA_CHANNEL)).toMatchObject({ outage: true, latencyMs: 0 });
    expect(JSON.stringify(await gus.admin.channels.overview())).not.toMatch(/demo|WhatsApp \+1/);

    expect(await code(() => ana.admin.channels.setFaults({ simulator: 'whatsapp', faults: {} }))).toBe(
      'FORBIDDEN',
    );
    expect(
      await code(() => ada.admin.channels.setFaults({ simulator: 'whatsapp', faults: { errorRate: 7 } })),
    ).toBe('BAD_REQUEST');
    expect(await code(() => ada.admin.channels.customerMessage({ channelId: 'webchat' }))).toBe('NOT_FOUND');
    expect(whatsapp.faultsFor(WA_CHANNEL).errorRate).toBe(0);
    await ada.admin.channels.clearFaults({ simulator: 'whatsapp' });
    expect(whatsapp.faultsFor(WA_CHANNEL).outage).toBe(false);
  });

  it('[OUT3] a reply during an outage is retried visibly and delivered once the fault is cleared', async () => {
    await ada.admin.channels.setFaults({ simulator: 'whatsapp', faults: { outage: true } });
    const { conversationId, webhookStatus } = await ada.admin.channels.customerMessage({
      channelId: 'whatsapp',
    });
    expect(webhookStatus).toBe(200);
    await eventually(async () => (await h.services.grains.conversation(demo, conversationId).read()).state);
    await queueReply(conversationId, 'outage-1', 'during the outage');
    const retried = await eventually(
      async () =>
        (await ada.admin.channels.overview()).recent.find(
          (row) => row.clientMessageId === 'outage-1' && row.status === 'pending' && row.attempts >= 1,
        ),
      15_000,
      'a retry',
    );
    expect(retried.error).toMatch(/503/);
    await ada.admin.channels.clearFaults({});
    await eventually(
      async () =>
        (await ada.admin.channels.overview()).recent.find(
          (row) => row.clientMessageId === 'outage-1' && row.status === 'sent',
        ),
      20_000,
      'the delivery',
    );
    const sent = h.services.channels.simulators
      .whatsapp!.accepted()
      .filter((m) => m.idempotencyKey?.endsWith(':outage-1'));
    expect(sent).toHaveLength(1);
  });

  it("[IN5] dead letters are an admin's own tenant's, with their raw payload, and replayable only by them", async () => {
    const secret = (await h.services.channels.repo.app('demo-whatsapp'))!.secret;
    // IN10: a phone number id that is not the app's own: dead-lettered at once.
    expect((await post(secret, message('wamid.DEAD1', '999999999999999'))).status).toBe(200);
    const letter = await eventually(
      async () =>
        (await ada.admin.channels.deadLetters({})).inbound.find((l) => l.body.includes('wamid.DEAD1')),
      10_000,
      'the dead letter',
    );
    expect(letter).toMatchObject({
      tenantId: 'demo',
      appId: 'demo-whatsapp',
      errorCode: 'CHANNEL_NOT_FOUND',
    });
    expect(JSON.parse(letter.body)).toMatchObject({ object: 'whatsapp_business_account' });
    // A reply on a conversation with no route (made without a webhook or the demo seed's routing)
    // fails at once: a dead letter of the outbox, with its content.
    await h.services.grains.conversation(demo, 'unrouted-1').ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: 'unrouted-1',
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: 'unrouted-1-m1',
        contact: { id: 'c-unrouted', name: 'Nobody', handle: '+1 555 0000' },
        content: { type: 'text', text: 'hello?' },
        sentAt: Date.now(),
      },
    });
    await queueReply('unrouted-1', 'no-route-1', 'nowhere to go');
    const outbound = await eventually(
      async () =>
        (await ada.admin.channels.deadLetters({})).outbound.find((l) => l.clientMessageId === 'no-route-1'),
      10_000,
      'the failed reply',
    );
    expect(outbound).toMatchObject({ status: 'failed', reply: { content: { text: 'nowhere to go' } } });
    expect(outbound.error).toMatch(/NO_ROUTE/);

    const foreign = await gus.admin.channels.deadLetters({});
    expect(foreign).toEqual({ inbound: [], outbound: [] });
    expect(await code(() => gus.admin.channels.replay({ id: letter.id }))).toBe('NOT_FOUND');
    expect(await code(() => ana.admin.channels.deadLetters({}))).toBe('FORBIDDEN');
    expect(await code(() => ada.admin.channels.replay({ id: 'x; DROP' }))).toBe('BAD_REQUEST');
    const [row] = await h.services.db.sql.query<{ status: string }>(
      'SELECT status FROM webhook_inbox WHERE id = $1',
      [letter.id],
    );
    expect(row?.status).toBe('dead');

    expect(await ada.admin.channels.replay({ id: letter.id })).toEqual({ id: letter.id, replayed: true });
    // Still not the app's channel: it is processed again and ends a dead letter again, once more.
    await eventually(async () => {
      const [again] = await h.services.db.sql.query<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM webhook_inbox WHERE id = $1',
        [letter.id],
      );
      return again?.status === 'dead' && again.attempts === 1;
    });

    const lines: string[] = [];
    const usage = (m: string) => new Error(m);
    await runWebhooksCommand(
      h.services.db.sql,
      ['dead-letters'],
      { tenant: 'demo' },
      (l) => lines.push(l),
      usage,
    );
    expect(lines.join('\n')).toContain(`#${letter.id}`);
    expect(lines.join('\n')).toContain('nowhere to go');
    await expect(
      runWebhooksCommand(h.services.db.sql, ['replay', '987654'], {}, () => undefined, usage),
    ).rejects.toThrow(/not a dead letter/);
  });

  it('[IN2] an admin rotates a secret: both are accepted during the window, the old one is refused after it', async () => {
    const old = (await h.services.channels.repo.app('demo-whatsapp'))!.secret;
    expect(await code(() => gus.admin.channels.rotateSecret({ appId: 'demo-whatsapp' }))).toBe('NOT_FOUND');
    expect((await h.services.channels.repo.app('demo-whatsapp'))!.secret).toBe(old);
    expect(await code(() => ana.admin.channels.rotateSecret({ appId: 'demo-whatsapp' }))).toBe('FORBIDDEN');

    const rotated = await ada.admin.channels.rotateSecret({ appId: 'demo-whatsapp', graceHours: 1 });
    expect(rotated.secret).not.toBe(old);
    expect((await post(old, message('wamid.ROT1'))).status).toBe(200);
    expect((await post(rotated.secret, message('wamid.ROT2'))).status).toBe(200);
    expect((await ada.admin.channels.overview()).apps.find((a) => a.appId === 'demo-whatsapp')).toMatchObject(
      {
        previousSecretExpiresAt: expect.any(Number) as unknown,
      },
    );

    // Rotating again with no grace: the one before is refused at once, the newest accepted.
    const lines: string[] = [];
    await runWebhooksCommand(
      h.services.db.sql,
      ['rotate-secret', 'demo-whatsapp'],
      { graceHours: '0' },
      (l) => lines.push(l),
      (m) => new Error(m),
    );
    const newest = /new secret of demo-whatsapp: ([0-9a-f]+)/.exec(lines.join('\n'))?.[1];
    expect(newest).toBeDefined();
    h.services.channels.repo.invalidate(); // the CLI runs in another process in real life
    expect((await post(rotated.secret, message('wamid.ROT3'))).status).toBe(401);
    expect((await post(old, message('wamid.ROT4'))).status).toBe(401);
    expect((await post(newest!, message('wamid.ROT5'))).status).toBe(200);
  });
});
