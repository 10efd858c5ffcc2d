import { contentLine, type InboundContent, type RecordedEvent } from '@parley/domain';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelError } from '../../src/channels/errors';
import { conversationIdFor } from '../../src/channels/conversation-id';
import { parseDelivery, type InboundMessageItem } from '../../src/channels/parse';
import { whatsappStatus, whatsappText } from '../../src/channels/simulators/payloads';
import { START } from '../../src/store/checkpoint';
import { InvalidAppendError } from '../../src/store/errors';
import { API_BACKENDS, httpClient, openApiHarness, serveHttp, type ApiHarness } from '../api.support';
import {
  APPS,
  DATABASE_KINDS,
  eventually,
  FAST,
  loadCorpus,
  openHarness,
  TENANT,
  type Harness,
} from '../fixtures/channels/harness';
import { queueReply } from '../support/queue-reply';

// Inbound content and receipts, as an attacker or a careless platform sends them (issue #13:
// S1 characters jsonb refuses, S3 fields of the wrong JSON type, S4 receipts for messages Parley
// never sent, S13 receipts for other customers' replies). Payloads are the corpus's real-shaped
// ones, changed in one field, and signed for real.

const WA_PATH = `/webhooks/whatsapp/${APPS.whatsapp.appId}`;
const META_PATH = `/webhooks/meta/${APPS.meta.appId}`;
const NUL = '\u0000';
const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';
const FFFD = '\uFFFD';

type Payload = Record<string, unknown>;

/** A fresh copy of one corpus payload, to change one field of. */
function corpus(name: string): Payload {
  const sample = loadCorpus().find((c) => c.name === name);
  if (!sample) throw new Error(`no corpus payload ${name}`);
  return structuredClone(sample.payload);
}

/** The value at a dotted path (`entry.0.messaging.0`) of a payload. */
function get(root: unknown, path: string): unknown {
  if (path === '') return root;
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
}

/** Sets the one field a test changes; `undefined` removes it. */
function put(root: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const parent = get(root, keys.slice(0, -1).join('.')) as Record<string, unknown>;
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
}

const WA = 'entry.0.changes.0.value.messages.0';
const WA_CONTACT = 'entry.0.changes.0.value.contacts.0';
const META = 'entry.0.messaging.0';
const context = { subject: 'visitor-1', receivedAt: 1_735_689_600_000 };

/** The message items a delivery parses into. */
function messages(
  kind: 'whatsapp' | 'meta' | 'telegram' | 'webchat',
  payload: unknown,
): InboundMessageItem[] {
  return parseDelivery(kind, payload, context).items.filter(
    (item): item is InboundMessageItem => item.kind === 'message',
  );
}

describe.each(DATABASE_KINDS)('inbound content and receipts on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(kind, FAST);
  });
  afterAll(async () => {
    await h.close();
  });

  const received = async (externalMessageId: string): Promise<RecordedEvent | undefined> => {
    const { events } = await h.store.readAll(TENANT, START, 10_000);
    return events.find(
      (e) =>
        e.type === 'InboundMessageReceived' &&
        (e.data as { externalMessageId: string }).externalMessageId === externalMessageId,
    );
  };
  const arrives = (externalMessageId: string) =>
    eventually(() => received(externalMessageId), 10_000, `message ${externalMessageId}`);
  const contentOf = (event: RecordedEvent) => (event.data as { content: InboundContent }).content;
  const contactOf = (event: RecordedEvent) => (event.data as { contact: { name: string } }).contact;
  /** The inbox rows whose raw body contains `marker`. */
  const inboxRows = (marker: string) =>
    h.database.db.sql.query<{ id: string; status: string; attempts: number; last_error_code: string | null }>(
      `SELECT id::text AS id, status, attempts, last_error_code FROM webhook_inbox
        WHERE position($1 in body) > 0 ORDER BY id`,
      [marker],
    );
  const processed = (marker: string) =>
    eventually(
      async () => {
        const rows = await inboxRows(marker);
        return rows.length > 0 && rows.every((r) => r.status === 'processed' || r.status === 'dead')
          ? rows
          : undefined;
      },
      10_000,
      `the delivery holding ${marker}`,
    );
  const webchat = async () => {
    const base = `${h.url}/webchat/${APPS.webchat.appId}`;
    const session = (await (await fetch(`${base}/session`, { method: 'POST', body: '{}' })).json()) as {
      token: string;
      visitorId: string;
    };
    const post = (body: unknown) =>
      fetch(`${base}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const inbox = async () => {
      const res = await fetch(`${base}/messages?after=0`, {
        headers: { authorization: `Bearer ${session.token}` },
      });
      return ((await res.json()) as { messages: { messageId: string }[] }).messages;
    };
    return { ...session, post, inbox };
  };

  describe('S1: text PostgreSQL cannot store', () => {
    it('[S1] [TX1] a NUL in a WhatsApp text and name is stored as U+FFFD and flagged sanitized', async () => {
      const payload = corpus('whatsapp-text');
      put(payload, `${WA}.id`, 'wamid.S1-NUL');
      put(payload, `${WA}.text.body`, `before${NUL}after`);
      put(payload, `${WA_CONTACT}.profile.name`, `Kerry${NUL}`);
      expect((await h.postMeta(WA_PATH, payload, APPS.whatsapp.secret)).status).toBe(200);
      const event = await arrives('wamid.S1-NUL');
      expect(contentOf(event)).toEqual({ type: 'text', text: `before${FFFD}after` });
      expect(contactOf(event).name).toBe(`Kerry${FFFD}`);
      expect(event.metadata).toMatchObject({ sanitized: true, sourceType: 'text' });
      expect((await processed('wamid.S1-NUL')).map((r) => [r.status, r.attempts])).toEqual([
        ['processed', 1],
      ]);
    });

    it('[S1] a lone surrogate in a WhatsApp image caption is stored as U+FFFD, the image kept', async () => {
      const payload = corpus('whatsapp-image');
      put(payload, `${WA}.id`, 'wamid.S1-CAPTION');
      put(payload, `${WA}.image.caption`, `receipt ${LONE_HIGH}`);
      expect((await h.postMeta(WA_PATH, payload, APPS.whatsapp.secret)).status).toBe(200);
      const event = await arrives('wamid.S1-CAPTION');
      expect(contentOf(event)).toMatchObject({ type: 'media', caption: `receipt ${FFFD}` });
      expect(event.metadata).toMatchObject({ sanitized: true });
    });

    it('[S1] lone surrogates in Messenger and Instagram texts are stored as U+FFFD and flagged', async () => {
      const messenger = corpus('messenger-text');
      put(messenger, `${META}.message.mid`, 'm_S1-MS');
      put(messenger, `${META}.message.text`, `${LONE_LOW}hi${LONE_HIGH}`);
      const instagram = corpus('instagram-text');
      put(instagram, `${META}.message.mid`, 'm_S1-IG');
      put(instagram, `${META}.message.text`, `ig ${NUL}`);
      expect((await h.postMeta(META_PATH, messenger, APPS.meta.secret)).status).toBe(200);
      expect((await h.postMeta(META_PATH, instagram, APPS.meta.secret)).status).toBe(200);
      const ms = await arrives('m_S1-MS');
      const ig = await arrives('m_S1-IG');
      expect(contentOf(ms)).toEqual({ type: 'text', text: `${FFFD}hi${FFFD}` });
      expect(contentOf(ig)).toEqual({ type: 'text', text: `ig ${FFFD}` });
      expect(ms.metadata).toMatchObject({ sanitized: true });
      expect(ig.metadata).toMatchObject({ sanitized: true });
    });

    it('[S1] a NUL in a Telegram text and first name is stored as U+FFFD and flagged', async () => {
      const payload = corpus('telegram-text');
      put(payload, 'update_id', 913_001);
      put(payload, 'message.message_id', 913_001);
      put(payload, 'message.text', `a${NUL}b`);
      put(payload, 'message.from.first_name', `Te${LONE_HIGH}st`);
      expect((await h.postTelegram(payload, APPS.telegram.secret)).status).toBe(200);
      const event = await arrives(`${String(get(payload, 'message.chat.id'))}:913001`);
      expect(contentOf(event)).toEqual({ type: 'text', text: `a${FFFD}b` });
      expect(contactOf(event).name).toMatch(new RegExp(`^Te${FFFD}st`));
      expect(event.metadata).toMatchObject({ sanitized: true });
    });

    it('[S1] a web chat visitor (no secret needed) cannot lose a message with a NUL', async () => {
      const visitor = await webchat();
      // The raw bytes as a browser's JSON.stringify sends them: \u0000 and \ud83d escapes.
      const body = JSON.stringify({
        type: 'message',
        id: 's1',
        text: `x${NUL}y${LONE_HIGH}`,
        name: `N${NUL}`,
      });
      expect(body).toContain('\\u0000');
      expect((await visitor.post(body)).status).toBe(200);
      const event = await arrives(`${visitor.visitorId}:s1`);
      expect(contentOf(event)).toEqual({ type: 'text', text: `x${FFFD}y${FFFD}` });
      expect(contactOf(event).name).toBe(`N${FFFD}`);
      expect(event.metadata).toMatchObject({ sanitized: true });
    });

    it('[S1] a dead letter the old code left for such a message replays and is received', async () => {
      // What the old code left behind: the delivery, retried as transient until it died.
      const payload = whatsappText(
        APPS.whatsapp.externalId,
        { waId: '15550001301', name: 'Old Letter' },
        { id: 'wamid.S1-DEAD', text: `lost${NUL}`, at: Date.now() },
      );
      const [row] = await h.database.db.sql.query<{ id: string }>(
        `INSERT INTO webhook_inbox (tenant_id, app_id, kind, body, dedupe_key, status, attempts,
                                    last_error_code, last_error)
         VALUES ($1, $2, 'whatsapp', $3, 'old-dead-letter-s1', 'dead', 8, 'TRANSIENT',
                 'unsupported Unicode escape sequence')
         RETURNING id::text AS id`,
        [TENANT, APPS.whatsapp.appId, JSON.stringify(payload)],
      );
      // `parley webhooks replay` and admin.channels.replay both put it back this way.
      expect(await h.channels.inbox.replay(row!.id, Date.now())).toBe(true);
      h.channels.processor.wake();
      const event = await arrives('wamid.S1-DEAD');
      expect(contentOf(event)).toEqual({ type: 'text', text: `lost${FFFD}` });
      expect(event.metadata).toMatchObject({ sanitized: true });
      expect(await h.channels.inbox.deadLetters({ tenantId: TENANT })).toEqual([]);
    });

    it('[S1] the store refuses such an event alone and for good, and the rest of its batch commits', async () => {
      const append = (streamId: string, text: string) =>
        h.store.append(TENANT, streamId as never, [{ type: 'NoteAdded', data: { text } }], {
          expectedVersion: 'any',
        });
      // Appended in one tick, so the group commit would put them in one transaction.
      const [bad, good, badKey] = await Promise.allSettled([
        append('conversation-s1-store-bad', `x${NUL}`),
        append('conversation-s1-store-good', 'fine'),
        h.store.append(
          TENANT,
          'conversation-s1-store-key' as never,
          [{ type: 'NoteAdded', data: { text: 'ok' } }],
          { expectedVersion: 'any', idempotencyKey: `k${NUL}` },
        ),
      ]);
      expect(good.status).toBe('fulfilled');
      expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(InvalidAppendError);
      expect(bad.status === 'rejected' && String(bad.reason)).toMatch(
        /NUL or a lone UTF-16 surrogate at \$\.text/,
      );
      expect(badKey.status === 'rejected' && badKey.reason).toBeInstanceOf(InvalidAppendError);
      expect(await h.store.readStream(TENANT, 'conversation-s1-store-bad' as never)).toEqual([]);
      expect(await h.store.readStream(TENANT, 'conversation-s1-store-good' as never)).toHaveLength(1);
    });
  });

  describe('S3: a field of the wrong JSON type', () => {
    it('[S3] [TX2] a WhatsApp text.body that is an object is kept as unsupported with its raw value', async () => {
      const payload = corpus('whatsapp-text');
      put(payload, `${WA}.id`, 'wamid.S3-OBJECT');
      put(payload, `${WA}.text`, { body: { injected: ['a', 1] } });
      expect((await h.postMeta(WA_PATH, payload, APPS.whatsapp.secret)).status).toBe(200);
      const event = await arrives('wamid.S3-OBJECT');
      const content = contentOf(event);
      expect(content).toEqual({
        type: 'unsupported',
        sourceType: 'text',
        raw: '{"body":{"injected":["a",1]}}',
      });
      // What the agent sees: never a blank or other text.
      expect(contentLine(content)).toBe('Unsupported message (text): {"body":{"injected":["a",1]}}');
      expect(event.metadata).toMatchObject({ unsupported: true, sourceType: 'text' });
    });

    it('[S3] a web chat text that is not a string is kept raw, not stored as a blank', async () => {
      const visitor = await webchat();
      expect((await visitor.post({ type: 'message', id: 's3', text: { html: '<b>hi</b>' } })).status).toBe(
        200,
      );
      const event = await arrives(`${visitor.visitorId}:s3`);
      expect(contentOf(event)).toEqual({
        type: 'unsupported',
        sourceType: 'text',
        raw: '{"html":"<b>hi</b>"}',
      });
    });
  });

  describe('S4: receipts for messages Parley never sent', () => {
    it('[S4] [IN14] are recorded and ignored at once: counted, never retried, never dead-lettered', async () => {
      const before = h.channels.processor.ignoredReceipts(TENANT);
      const read = whatsappStatus(APPS.whatsapp.externalId, {
        id: 'wamid.S4-FROM-PHONE',
        status: 'read',
        recipient: '15550001401',
        at: Date.now(),
      });
      const delivered = corpus('messenger-delivery-read');
      put(delivered, `${META}.delivery.mids`, ['m_S4-NEVER-1', 'm_S4-NEVER-2']);
      expect((await h.postMeta(WA_PATH, read, APPS.whatsapp.secret)).status).toBe(200);
      expect((await h.postMeta(META_PATH, delivered, APPS.meta.secret)).status).toBe(200);
      expect((await processed('wamid.S4-FROM-PHONE')).map((r) => [r.status, r.attempts])).toEqual([
        ['processed', 1],
      ]);
      expect((await processed('m_S4-NEVER-1')).map((r) => [r.status, r.attempts])).toEqual([
        ['processed', 1],
      ]);
      expect(h.channels.processor.ignoredReceipts(TENANT)).toBeGreaterThanOrEqual(before + 3);
      expect(await h.channels.inbox.deadLetters({ tenantId: TENANT })).toEqual([]);
    });

    it('[S4] [IN14] while a reply to the contact is being sent one is retried, then ignored, not dead-lettered', async () => {
      // A send in flight: the receipt may be for it, its platform id not yet recorded (DS5).
      await h.database.db.sql.query(
        `INSERT INTO channel_outbox (tenant_id, conversation_id, client_message_id, channel_id, recipient,
                                     reply, status, attempts, locked_until)
         VALUES ($1, 's4-in-flight', 'r1', 'wa', '15550001402', $2, 'sending', 1, now() + interval '1 hour')`,
        [TENANT, JSON.stringify({ content: { type: 'text', text: 'on its way' }, tag: null })],
      );
      const receipt = whatsappStatus(APPS.whatsapp.externalId, {
        id: 'wamid.S4-IN-FLIGHT',
        status: 'delivered',
        recipient: '15550001402',
        at: Date.now(),
      });
      expect((await h.postMeta(WA_PATH, receipt, APPS.whatsapp.secret)).status).toBe(200);
      const rows = await eventually(
        async () => {
          const found = await inboxRows('wamid.S4-IN-FLIGHT');
          return found[0]?.status === 'processed' || found[0]?.status === 'dead' ? found : undefined;
        },
        10_000,
        'the receipt to settle',
      );
      expect(rows.map((r) => [r.status, r.attempts])).toEqual([['processed', FAST.processor!.maxAttempts]]);
      expect(await h.channels.inbox.deadLetters({ tenantId: TENANT })).toEqual([]);
    });
  });

  describe("S13: receipts for other customers' replies", () => {
    it("[S13] [IN13] a web chat visitor's receipt cannot mark another visitor's reply as read", async () => {
      const alice = await webchat();
      const mallory = await webchat();
      expect((await alice.post({ type: 'message', id: 'a1', text: 'hello' })).status).toBe(200);
      const aliceConversation = conversationIdFor(TENANT, 'webchat', 'wc', alice.visitorId);
      await arrives(`${alice.visitorId}:a1`);
      await queueReply({ db: h.database.db, grains: h.grains }, TENANT, aliceConversation, {
        type: 'QueueReply',
        data: {
          clientMessageId: 'to-alice',
          agentId: 'agent-1',
          content: { type: 'text', text: 'Your order number is 4711' },
          tag: null,
          now: Date.now(),
          templates: [],
        },
      });
      const [reply] = await eventually(async () => {
        const list = await alice.inbox();
        return list.length > 0 ? list : undefined;
      });
      const status = async () =>
        (await h.grains.conversation(TENANT, aliceConversation).read()).state?.replies.get('to-alice')
          ?.status;
      await eventually(async () => (await status()) === 'sent');
      const before = h.channels.processor.ignoredReceipts(TENANT);
      // Mallory learned the id (guessed, leaked): her receipt names Alice's reply.
      expect(
        (await mallory.post({ type: 'receipt', status: 'read', messageIds: [reply!.messageId] })).status,
      ).toBe(200);
      await processed(`"messageIds":["${reply!.messageId}"]`);
      expect(await status()).toBe('sent');
      expect(h.channels.processor.ignoredReceipts(TENANT)).toBe(before + 1);
      // Alice's own receipt still works.
      expect(
        (await alice.post({ type: 'receipt', status: 'read', messageIds: [reply!.messageId] })).status,
      ).toBe(200);
      await eventually(async () => (await status()) === 'read');
    });

    it('[S13] [IN13] a web chat receipt names at most 100 messages: beyond, a clear 400 and nothing stored', async () => {
      const visitor = await webchat();
      const before = await h.count('webhook_inbox');
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `wc-s13-${i}`);
      const tooMany = await visitor.post({ type: 'receipt', status: 'read', messageIds: ids(101) });
      expect(tooMany.status).toBe(400);
      expect(await tooMany.json()).toMatchObject({ error: 'TOO_MANY_MESSAGE_IDS', limit: 100 });
      expect(await h.count('webhook_inbox')).toBe(before);
      expect((await visitor.post({ type: 'receipt', status: 'read', messageIds: ids(100) })).status).toBe(
        200,
      );
    });
  });
});

describe('S3: every parser keeps a wrongly typed field raw instead of inventing text', () => {
  const unreadable = (item: InboundMessageItem | undefined, sourceType: string) => {
    expect(item?.content).toMatchObject({ type: 'unsupported', sourceType });
    expect(item?.content.type === 'unsupported' && typeof item.content.raw).toBe('string');
    expect(item?.unsupported).toBe(true);
  };

  it('[S3] WhatsApp: a caption, an emoji or a button text of the wrong type; a bad profile keeps the message', () => {
    const image = corpus('whatsapp-image');
    put(image, `${WA}.image.caption`, { text: 'x' });
    unreadable(messages('whatsapp', image)[0], 'image');
    const reaction = corpus('whatsapp-reaction');
    put(reaction, `${WA}.reaction.emoji`, ['👍']);
    unreadable(messages('whatsapp', reaction)[0], 'reaction');
    const text = corpus('whatsapp-text');
    put(text, `${WA}.text`, 'not an object');
    unreadable(messages('whatsapp', text)[0], 'text');
    const profile = corpus('whatsapp-text');
    put(profile, `${WA_CONTACT}.profile`, 'Kerry');
    const [kept] = messages('whatsapp', profile);
    expect(kept?.content.type).toBe('text');
    expect(kept?.contact.name).toBe(`+${String(get(profile, `${WA}.from`))}`);
    const location = corpus('whatsapp-location');
    put(location, `${WA}.location.latitude`, true);
    unreadable(messages('whatsapp', location)[0], 'location');
  });

  it('[S3] Messenger and Instagram: a text, an attachment payload or a postback title of the wrong type', () => {
    const text = corpus('messenger-text');
    put(text, `${META}.message.text`, { body: 'x' });
    unreadable(messages('meta', text)[0], 'message');
    const image = corpus('messenger-image');
    put(image, `${META}.message.attachments.0.payload`, 'https://example.com/x.jpg');
    unreadable(messages('meta', image)[0], 'image');
    const postback = corpus('messenger-text');
    put(postback, `${META}.message`, undefined);
    put(postback, `${META}.postback`, { mid: 'm_PB', title: { x: 1 }, payload: 'START' });
    unreadable(messages('meta', postback)[0], 'postback');
    const ig = corpus('instagram-text');
    put(ig, `${META}.message.text`, 42);
    expect(messages('meta', ig)[0]?.content).toEqual({ type: 'text', text: '42' });
  });

  it('[S3] Telegram: a text, a caption, a photo or a sender of the wrong type', () => {
    const text = corpus('telegram-text');
    put(text, 'message.text', { bold: 'hi' });
    unreadable(messages('telegram', text)[0], 'text');
    const caption = corpus('telegram-photo');
    put(caption, 'message.caption', ['broken', 'box']);
    unreadable(messages('telegram', caption)[0], 'photo');
    const photo = corpus('telegram-photo');
    put(photo, 'message.photo', { file_id: 'x' });
    unreadable(messages('telegram', photo)[0], 'photo');
    const sender = corpus('telegram-text');
    put(sender, 'message.from', 'Test');
    expect(messages('telegram', sender)[0]?.content.type).toBe('text');
  });

  it('[S3] a timestamp of the wrong type is refused, never read as 1970', () => {
    for (const value of [true, [1735689600], { s: 1 }, '']) {
      const payload = corpus('whatsapp-text');
      put(payload, `${WA}.timestamp`, value);
      expect(() => parseDelivery('whatsapp', payload, context), JSON.stringify(value)).toThrow(ChannelError);
      const tg = corpus('telegram-text');
      put(tg, 'message.date', value);
      expect(() => parseDelivery('telegram', tg, context), JSON.stringify(value)).toThrow(ChannelError);
    }
  });
});

describe.each(API_BACKENDS)('S2: agent text PostgreSQL cannot store, over HTTP on %s', (kind, enabled) => {
  let h: ApiHarness;
  let http: Awaited<ReturnType<typeof serveHttp>>;
  let client: ReturnType<typeof httpClient>;
  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    http = await serveHttp(h);
    client = httpClient(http.url);
    await client.trpc.auth.signIn.mutate({
      tenantId: 'demo',
      email: 'chloe@demo.parley.test',
      password: 'parley-demo-agent',
    });
  });
  afterAll(async () => {
    if (!enabled) return;
    await http.stop();
    await h.dispose();
  });

  /** The HTTP status and message a call is answered with. */
  const answer = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof TRPCClientError)) throw new Error(`expected a refusal, got ${String(error)}`);
    const data = error.data as { httpStatus?: number; code?: string } | undefined;
    return { status: data?.httpStatus, code: data?.code, message: error.message };
  };
  const conversationId = 'demo-3';
  const events = async () =>
    (await h.services.store.readStream('demo' as never, `conversation-${conversationId}` as never)).length;

  it.skipIf(!enabled)(
    '[S2] reply, replyBatch, note and label with a NUL or a lone surrogate get a 400, never a 500',
    async () => {
      const before = await events();
      const bad = [`hello${NUL}`, `smile ${LONE_HIGH}`, `${LONE_LOW}`];
      for (const text of bad) {
        const calls = [
          client.trpc.conversations.reply.mutate({
            conversationId,
            clientId: 's2-laptop',
            sequence: 1,
            clientMessageId: 's2-reply',
            content: { type: 'text', text },
          }),
          client.trpc.conversations.replyBatch.mutate({
            clientId: 's2-phone',
            replies: [
              {
                conversationId,
                sequence: 1,
                clientMessageId: 's2-batch',
                content: { type: 'text', text },
              },
            ],
          }),
          client.trpc.conversations.note.mutate({ conversationId, noteId: 's2-note', text }),
          client.trpc.conversations.label.mutate({ conversationId, label: text, action: 'add' }),
        ];
        for (const call of calls) {
          const refused = await answer(call);
          expect(refused.status, text).toBe(400);
          expect(refused.code).toBe('BAD_REQUEST');
          expect(refused.message).toMatch(/NUL character \(U\+0000\) or a lone UTF-16 surrogate/);
        }
      }
      // Nothing was written, and the same calls with clean text are accepted.
      expect(await events()).toBe(before);
      const reply = await client.trpc.conversations.reply.mutate({
        conversationId,
        clientId: 's2-laptop',
        sequence: 1,
        clientMessageId: 's2-reply',
        content: { type: 'text', text: 'hello 😀' },
      });
      expect(reply).toMatchObject({ kind: 'accepted' });
    },
  );
});
