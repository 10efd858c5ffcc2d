import { tenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdFor } from '../../src/channels/conversation-id';
import { metaSignature } from '../../src/channels/signature';
import { API_BACKENDS, openApiHarness, serveHttp, type ApiHarness, type TestClient } from '../api.support';
import { eventually, loadCorpus } from '../fixtures/channels/harness';

const DEMO = tenantId('demo');
const APP = { appId: 'order-wa', secret: 'order-wa-secret-0123456789', phoneNumberId: '100000000000077' };
const CUSTOMER = '16315551234';
/** The order one contact's ten messages (sent one minute apart, 1 ... 10) reach Parley. */
const ARRIVAL = [7, 2, 10, 1, 9, 4, 3, 6, 8, 5];
const SENT_AT = (n: number) => (1_735_689_600 + n * 60) * 1000;
const IN_ORDER = Array.from({ length: 10 }, (_, i) => `message ${i + 1}`);

/** The corpus's real WhatsApp text webhook, as message `n` of our customer on our number. */
function whatsappMessage(n: number): string {
  const sample = loadCorpus().find((c) => c.name === 'whatsapp-text')!;
  const payload = structuredClone(sample.payload) as {
    entry: {
      changes: { value: { metadata: { phone_number_id: string }; messages: Record<string, unknown>[] } }[];
    }[];
  };
  const value = payload.entry[0]!.changes[0]!.value;
  value.metadata.phone_number_id = APP.phoneNumberId;
  value.messages[0] = {
    ...value.messages[0],
    from: CUSTOMER,
    id: `wamid.order-${n}`,
    timestamp: String(SENT_AT(n) / 1000),
    text: { body: `message ${n}` },
  };
  return JSON.stringify(payload);
}

describe.each(API_BACKENDS.filter(([, on]) => on).map(([kind]) => kind))(
  '[S5] message order on %s',
  (kind) => {
    let h: ApiHarness;
    let http: Awaited<ReturnType<typeof serveHttp>>;
    let admin: TestClient;
    const conversationId = conversationIdFor(DEMO, 'whatsapp', 'order-wa', CUSTOMER);

    beforeAll(async () => {
      h = await openApiHarness(kind);
      const { repo } = h.services.channels;
      const base = { tenantId: DEMO, inboxId: 'support' };
      await repo.ensureApp({
        ...base,
        appId: APP.appId,
        kind: 'whatsapp',
        secret: APP.secret,
        verifyToken: 'v',
      });
      await repo.saveChannel({
        ...base,
        channelId: 'order-wa',
        appId: APP.appId,
        platform: 'whatsapp',
        externalId: APP.phoneNumberId,
        name: 'WhatsApp (order test)',
        apiBaseUrl: 'simulator:whatsapp',
        accessToken: 'order-token',
      });
      http = await serveHttp(h);
      admin = await h.signIn('ada@demo.parley.test');
      // One webhook after another, each answered before the next is sent: the arrival order is fixed.
      for (const n of ARRIVAL) {
        const body = whatsappMessage(n);
        const response = await fetch(new URL(`/webhooks/whatsapp/${APP.appId}`, http.url), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': metaSignature(APP.secret, body),
          },
          body,
        });
        expect(response.status).toBe(200);
      }
      await eventually(
        async () => {
          const view = await admin.caller.conversations.get({ conversationId }).catch(() => undefined);
          const count = view?.events.filter((e) => e.type === 'InboundMessageReceived').length ?? 0;
          return count === ARRIVAL.length;
        },
        20_000,
        'the ten messages to be processed',
      );
    });
    afterAll(async () => {
      await http?.stop();
      await h?.dispose();
    });

    it('[S5] the log keeps the order the webhooks arrived in', async () => {
      const { events } = await admin.caller.conversations.get({ conversationId });
      const messages = events.filter((e) => e.type === 'InboundMessageReceived');
      expect(messages.map((e) => (e.data as { externalMessageId: string }).externalMessageId)).toEqual(
        ARRIVAL.map((n) => `wamid.order-${n}`),
      );
    });

    it('[S5] conversations.timeline shows the messages in the platform timestamp order', async () => {
      const { items, version } = await admin.caller.conversations.timeline({ conversationId });
      expect(version).toBeGreaterThanOrEqual(ARRIVAL.length);
      expect(items.map((item) => item.kind)).toEqual(Array(10).fill('customer'));
      expect(items.map((item) => item.kind === 'customer' && item.content)).toEqual(
        IN_ORDER.map((text) => ({ type: 'text', text })),
      );
      expect(items.map((item) => item.at)).toEqual(IN_ORDER.map((_, i) => SENT_AT(i + 1)));
    });

    it('[S5] the inbox list previews the latest message by platform time, not the last to arrive', async () => {
      const { items } = await admin.caller.conversations.list({ search: 'Kerry' });
      const row = items.find((item) => item.conversationId === conversationId);
      expect(row?.lastMessage).toEqual({ preview: 'message 10', at: SENT_AT(10), from: 'customer' });
      expect(row?.lastCustomerMessageAt).toBe(SENT_AT(10));
    });

    it('[S5] another tenant cannot read the timeline', async () => {
      const gus = await h.signIn('gus@globex.parley.test');
      await expect(gus.caller.conversations.timeline({ conversationId })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });
  },
);
