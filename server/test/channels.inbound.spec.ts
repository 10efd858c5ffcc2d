import { contentLine, type InboundContent, type RecordedEvent } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdFor } from '../src/channels/conversation-id';
import { whatsappStatus, whatsappText } from '../src/channels/simulators/payloads';
import { START } from '../src/store/checkpoint';
import {
  APPS,
  DATABASE_KINDS,
  eventually,
  FAST,
  loadCorpus,
  openHarness,
  TENANT,
  type Harness,
} from './fixtures/channels/harness';
import { queueReply } from './support/queue-reply';

const WA_PATH = `/webhooks/whatsapp/${APPS.whatsapp.appId}`;
const META_PATH = `/webhooks/meta/${APPS.meta.appId}`;
let unique = 0;
/** A WhatsApp text from a customer, with a message id of its own. */
const waText = (text = 'hello', from = '15550000001', id = `wamid.T${++unique}`) =>
  whatsappText(APPS.whatsapp.externalId, { waId: from, name: 'Test Customer' }, { id, text, at: Date.now() });

describe.each(DATABASE_KINDS)('channels inbound on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(kind, { ...FAST, maxWebhookBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await h.close();
  });

  const events = async (type?: string): Promise<RecordedEvent[]> => {
    const { events: all } = await h.store.readAll(TENANT, START, 10_000);
    return all.filter((e) => type === undefined || e.type === type);
  };
  const received = (externalMessageId: string) => async () =>
    (await events('InboundMessageReceived')).filter(
      (e) => (e.data as { externalMessageId: string }).externalMessageId === externalMessageId,
    );

  it('[IN9] the verification handshake echoes the challenge only for the verify token', async () => {
    const ok = await fetch(
      `${h.url}${WA_PATH}?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${h.url}${WA_PATH}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(wrong.status).toBe(403);
    const meta = await fetch(
      `${h.url}${META_PATH}?hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=42`,
    );
    expect(await meta.text()).toBe('42');
    expect((await fetch(`${h.url}/webhooks/whatsapp/nobody`)).status).toBe(404);
  });

  describe('the corpus of real-shaped payloads', () => {
    for (const sample of loadCorpus().filter((c) => c.receipts === 0)) {
      it(`[IN6] ${sample.description} becomes ${sample.expect.length} message(s)`, async () => {
        const before = (await events('InboundMessageReceived')).length;
        const response =
          sample.kind === 'telegram'
            ? await h.postTelegram(sample.payload, APPS.telegram.secret)
            : await h.postMeta(
                sample.kind === 'whatsapp' ? WA_PATH : META_PATH,
                sample.payload,
                sample.kind === 'whatsapp' ? APPS.whatsapp.secret : APPS.meta.secret,
              );
        expect(response.status).toBe(200);
        await eventually(
          async () =>
            (await h.count('webhook_inbox', "status = 'processed'")) > 0 &&
            (await h.count('webhook_inbox', "status IN ('pending', 'processing')")) === 0,
          10_000,
          'processing',
        );
        const after = (await events('InboundMessageReceived')).slice(before);
        expect(after).toHaveLength(sample.expect.length);
        sample.expect.forEach((expected, i) => {
          const event = after[i]!;
          const content = (event.data as { content: InboundContent }).content;
          // CV13: what the agent sees, whatever the kind.
          const line = contentLine(content);
          if (expected.content === 'unsupported') {
            expect(content).toEqual({ type: 'unsupported', sourceType: expected.sourceType });
            expect(line).toMatch(/^Unsupported message/);
            expect(event.metadata).toMatchObject({ unsupported: true, sourceType: expected.sourceType });
            return;
          }
          expect(content.type).toBe(expected.content);
          expect(event.metadata).not.toHaveProperty('unsupported');
          if (expected.text !== undefined) expect(line).toBe(expected.text);
          if (expected.contains !== undefined) expect(line).toContain(expected.contains);
          if (expected.mediaKind !== undefined)
            expect(content.type === 'media' && content.media.kind).toBe(expected.mediaKind);
        });
        expect(await h.count('webhook_inbox', "status = 'dead'")).toBe(0);
      });
    }
  });

  it('[IN1] a missing, forged or foreign signature is refused with 401 and nothing is stored', async () => {
    const inboxBefore = await h.count('webhook_inbox');
    const eventsBefore = (await events()).length;
    const payload = waText('forged');
    expect((await h.postMeta(WA_PATH, payload, undefined)).status).toBe(401);
    expect((await h.postMeta(WA_PATH, payload, 'not-the-secret')).status).toBe(401);
    expect((await h.postMeta(WA_PATH, payload, APPS.meta.secret)).status).toBe(401);
    // A valid signature of other bytes: the body was changed after signing.
    const body = JSON.stringify(payload);
    const tampered = await h.postMeta(WA_PATH, body.replace('forged', 'FORGED'), undefined).then(() =>
      fetch(`${h.url}${WA_PATH}`, {
        method: 'POST',
        headers: { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64), 'content-type': 'application/json' },
        body,
      }),
    );
    expect(tampered.status).toBe(401);
    expect((await h.postTelegram({ update_id: 1 }, undefined)).status).toBe(401);
    expect((await h.postTelegram({ update_id: 1 }, 'wrong-token')).status).toBe(401);
    expect(await h.count('webhook_inbox')).toBe(inboxBefore);
    expect(await h.count('webhook_rejections')).toBe(0);
    expect((await events()).length).toBe(eventsBefore);
  });

  it('[IN7] malformed JSON gets 400 (kept for inspection) and an oversized body 413 (counted, never written)', async () => {
    const inboxBefore = await h.count('webhook_inbox');
    expect(
      (await h.postMeta(WA_PATH, '{"object": "whatsapp_business_account", ', APPS.whatsapp.secret)).status,
    ).toBe(400);
    expect((await h.postMeta(WA_PATH, '[1, 2, 3]', APPS.whatsapp.secret)).status).toBe(400);
    const big = waText('x'.repeat(100 * 1024));
    expect((await h.postMeta(WA_PATH, big, APPS.whatsapp.secret)).status).toBe(413);
    // Unsigned garbage is refused as unsigned and not kept: anyone could send it.
    expect((await h.postMeta(WA_PATH, '{oops', undefined)).status).toBe(401);
    expect(await h.count('webhook_inbox')).toBe(inboxBefore);
    expect(await h.count('webhook_rejections', "reason = 'malformed'")).toBe(2);
    // S8: an oversized body cannot be authenticated, so it is counted in memory, never written.
    expect(await h.count('webhook_rejections', "reason = 'too_large'")).toBe(0);
    expect(h.channels.refusals.of(APPS.whatsapp.appId).too_large).toBe(1);
  });

  it('[IN3] [IN4] a replayed delivery stores nothing new and a message id is received once', async () => {
    const payload = waText('only once');
    const id = (payload.entry as { changes: { value: { messages: { id: string }[] } }[] }[])[0]!.changes[0]!
      .value.messages[0]!.id;
    const inboxBefore = await h.count('webhook_inbox');
    for (let i = 0; i < 3; i++)
      expect((await h.postMeta(WA_PATH, payload, APPS.whatsapp.secret)).status).toBe(200);
    expect(await h.count('webhook_inbox')).toBe(inboxBefore + 1);
    // The same message inside a different delivery (the platform re-batched it): stored, not repeated.
    const rebatched = { ...payload, entry: [...(payload.entry as unknown[]), { id: 'OTHER', changes: [] }] };
    expect((await h.postMeta(WA_PATH, rebatched, APPS.whatsapp.secret)).status).toBe(200);
    await eventually(
      async () => (await h.count('webhook_inbox', "status IN ('pending', 'processing')")) === 0,
    );
    expect(await received(id)()).toHaveLength(1);
  });

  it('[IN2] during a rotation both secrets are accepted, and the old one is refused after it', async () => {
    await h.channels.repo.rotateSecret(APPS.whatsapp.appId, 'wa-secret-2-0123456789', 400);
    expect((await h.postMeta(WA_PATH, waText('old secret'), APPS.whatsapp.secret)).status).toBe(200);
    expect((await h.postMeta(WA_PATH, waText('new secret'), 'wa-secret-2-0123456789')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await h.postMeta(WA_PATH, waText('old secret late'), APPS.whatsapp.secret)).status).toBe(401);
    expect((await h.postMeta(WA_PATH, waText('new secret later'), 'wa-secret-2-0123456789')).status).toBe(
      200,
    );
    // Rotating again drops the oldest at once: only the last two secrets are ever valid.
    await h.channels.repo.rotateSecret(APPS.whatsapp.appId, 'wa-secret-3-0123456789', 60_000);
    expect((await h.postMeta(WA_PATH, waText('two back'), APPS.whatsapp.secret)).status).toBe(401);
    expect((await h.postMeta(WA_PATH, waText('previous'), 'wa-secret-2-0123456789')).status).toBe(200);
    expect((await h.postMeta(WA_PATH, waText('current'), 'wa-secret-3-0123456789')).status).toBe(200);
    await h.channels.repo.rotateSecret(APPS.whatsapp.appId, APPS.whatsapp.secret, 0);
  });

  it('[IN10] [IN5] a delivery for a channel of another app is dead-lettered raw, and replays once fixed', async () => {
    const stranger = whatsappText(
      '999999999',
      { waId: '15550000077', name: 'Lost' },
      { id: 'wamid.LOST1', text: 'anyone?', at: Date.now() },
    );
    expect((await h.postMeta(WA_PATH, stranger, APPS.whatsapp.secret)).status).toBe(200);
    const [dead] = await eventually(async () => {
      const letters = await h.channels.inbox.deadLetters({ tenantId: TENANT });
      return letters.length > 0 ? letters : undefined;
    });
    expect(dead!.errorCode).toBe('CHANNEL_NOT_FOUND');
    expect(JSON.parse(dead!.body)).toEqual(stranger);
    expect(await received('wamid.LOST1')()).toHaveLength(0);
    await h.channels.repo.saveChannel({
      tenantId: TENANT,
      channelId: 'wa2',
      appId: APPS.whatsapp.appId,
      platform: 'whatsapp',
      externalId: '999999999',
      name: 'Second number',
      inboxId: 'support',
      apiBaseUrl: 'simulator:whatsapp',
      accessToken: 't',
    });
    expect(await h.channels.inbox.replay(dead!.id, Date.now())).toBe(true);
    expect(await h.channels.inbox.replay(dead!.id, Date.now())).toBe(false);
    h.channels.processor.wake();
    await eventually(async () => ((await received('wamid.LOST1')()).length === 1 ? true : undefined));
    expect(await h.channels.inbox.deadLetters({ tenantId: TENANT })).toHaveLength(0);
  });

  it('[IN5] a delivery that keeps failing is retried with backoff, then kept as a dead letter', async () => {
    // A receipt for a reply the outbox sent but whose conversation never recorded it: retried like
    // a platform would, then given up. (A receipt for a message we never sent is ignored: IN14.)
    await h.database.db.sql.query(
      `INSERT INTO channel_outbox (tenant_id, conversation_id, client_message_id, channel_id, recipient,
                                   reply, status, platform_message_id, sent_at)
       VALUES ($1, 'in5-unrecorded', 'r1', 'wa', '15550000001', $2, 'sent', 'wamid.NEVER', now())`,
      [TENANT, JSON.stringify({ content: { type: 'text', text: 'x' }, tag: null })],
    );
    const receipt = whatsappStatus(APPS.whatsapp.externalId, {
      id: 'wamid.NEVER',
      status: 'read',
      recipient: '15550000001',
      at: Date.now(),
    });
    expect((await h.postMeta(WA_PATH, receipt, APPS.whatsapp.secret)).status).toBe(200);
    const dead = await eventually(async () =>
      (await h.channels.inbox.deadLetters({ tenantId: TENANT })).find((d) => d.body.includes('wamid.NEVER')),
    );
    expect(dead.errorCode).toBe('RECEIPT_BEFORE_SEND');
    expect(dead.attempts).toBe(3);
  });

  it('[IN12] every message of a contact on a channel reaches one conversation', async () => {
    await h.postMeta(WA_PATH, waText('first', '15550000055', 'wamid.C1'), APPS.whatsapp.secret);
    await h.postMeta(WA_PATH, waText('second', '15550000055', 'wamid.C2'), APPS.whatsapp.secret);
    await h.postMeta(WA_PATH, waText('other person', '15550000056', 'wamid.C3'), APPS.whatsapp.secret);
    const [first, second, other] = await eventually(async () => {
      const all = [
        ...(await received('wamid.C1')()),
        ...(await received('wamid.C2')()),
        ...(await received('wamid.C3')()),
      ];
      return all.length === 3 ? all : undefined;
    });
    const id = conversationIdFor(TENANT, 'whatsapp', 'wa', '15550000055');
    expect(first!.streamId).toBe(`conversation-${id}`);
    expect(second!.streamId).toBe(first!.streamId);
    expect(other!.streamId).not.toBe(first!.streamId);
  });

  it('[IN11] a web chat visitor is who the token says, and gets replies back', async () => {
    const base = `${h.url}/webchat/${APPS.webchat.appId}`;
    const session = (await (await fetch(`${base}/session`, { method: 'POST', body: '{}' })).json()) as {
      token: string;
      visitorId: string;
    };
    const post = (token: string | undefined, body: unknown) =>
      fetch(`${base}/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    expect((await post(undefined, { type: 'message', id: 'm1', text: 'hi' })).status).toBe(401);
    const forged = session.token.slice(0, -2) + (session.token.endsWith('AA') ? 'BB' : 'AA');
    expect((await post(forged, { type: 'message', id: 'm1', text: 'hi' })).status).toBe(401);
    expect(
      (await post(session.token, { type: 'message', id: 'm1', text: 'hello from the site' })).status,
    ).toBe(200);
    const conversationId = conversationIdFor(TENANT, 'webchat', 'wc', session.visitorId);
    await eventually(async () => (await h.grains.conversation(TENANT, conversationId).read()).state !== null);
    await queueReply({ db: h.database.db, grains: h.grains }, TENANT, conversationId, {
      type: 'QueueReply',
      data: {
        clientMessageId: 'r1',
        agentId: 'agent-1',
        content: { type: 'text', text: 'Hello! How can we help?' },
        tag: null,
        now: Date.now(),
        templates: [],
      },
    });
    const messages = await eventually(async () => {
      const res = await fetch(`${base}/messages?after=0`, {
        headers: { authorization: `Bearer ${session.token}` },
      });
      const body = (await res.json()) as { messages: { messageId: string; content: { text: string } }[] };
      return body.messages.length > 0 ? body.messages : undefined;
    });
    expect(messages[0]!.content.text).toBe('Hello! How can we help?');
    expect(
      (await post(session.token, { type: 'receipt', status: 'read', messageIds: [messages[0]!.messageId] }))
        .status,
    ).toBe(200);
    await eventually(
      async () =>
        (await h.grains.conversation(TENANT, conversationId).read()).state?.replies.get('r1')?.status ===
        'read',
    );
    // A renewed session keeps the visitor.
    const renewed = (await (
      await fetch(`${base}/session`, { method: 'POST', body: JSON.stringify({ token: session.token }) })
    ).json()) as { visitorId: string };
    expect(renewed.visitorId).toBe(session.visitorId);
  });
});
