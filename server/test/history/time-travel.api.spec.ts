import {
  conversation,
  fold,
  streamId,
  tenantId,
  type ConversationEvent,
  type ConversationState,
} from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationView } from '../../src/api/views';
import { ERASED } from '../../src/crypto/event-codec';
import { API_BACKENDS, openApiHarness, type ApiHarness, type TestClient } from '../api.support';

const demo = tenantId('demo');
const NAME = 'Tilda Traveller';
const PHONE = '+4917699887766';
const TEXT = 'my parcel 77-1234 is stuck in customs';
const agentActor = { actor: { kind: 'agent', id: 'ada' } };

/** Lets the wall clock move on, so events on either side of a remembered time differ in it. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 15));

describe.each(API_BACKENDS)('conversations.at on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: TestClient;
  let ana: TestClient;
  let gus: TestClient;
  /** A time after the customer's first message and before the label. */
  let beforeLabel: string;

  const receive = (
    conversationId: string,
    inboxId: string,
    text: string,
    contact = { id: PHONE.slice(1), name: NAME, handle: PHONE },
  ) =>
    h.services.grains.conversation(demo, conversationId).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId,
        platform: 'whatsapp',
        externalMessageId: `wamid.${conversationId}.${text.length}`,
        contact,
        content: { type: 'text', text },
        sentAt: h.now(),
      },
    });

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    await receive('tt-1', 'support', TEXT);
    await h.settle();
    await tick();
    beforeLabel = new Date().toISOString();
    await tick();
    await h.services.grains
      .conversation(demo, 'tt-1')
      .ask({ type: 'AddLabel', data: { label: 'customs', at: h.now() } }, { metadata: agentActor });
    await h.services.grains
      .conversation(demo, 'tt-1')
      .ask({ type: 'SetPriority', data: { priority: 'high', at: h.now() } }, { metadata: agentActor });
    await h.settle();
    ada = await h.signIn('ada@demo.parley.test');
    ana = await h.signIn('ana@demo.parley.test');
    gus = await h.signIn('gus@globex.parley.test');
  });

  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  /** The reference: the domain's own fold of the stream's first `n` events, shown as the API shows a conversation. */
  async function foldedView(conversationId: string, n: number) {
    const events = await h.services.store.readStream(demo, streamId(`conversation-${conversationId}`), {
      limit: n,
    });
    const state: ConversationState = fold(
      conversation,
      conversation.initialState(),
      events.map((e) => ({ type: e.type, data: e.data }) as ConversationEvent),
    );
    return { events, view: state === null ? null : conversationView(state, n) };
  }

  it.skipIf(!enabled)(
    '[TT2] gives the state as of a version: the fold of the events up to it, and each event with its type, version, time and actor',
    async () => {
      const latest = await h.services.store.streamVersion(demo, streamId('conversation-tt-1'));
      for (const version of [0, 1, 3, latest - 1, latest]) {
        const past = await ada.caller.conversations.at({ conversationId: 'tt-1', at: { version } });
        const { events, view } = await foldedView('tt-1', version);
        expect(past.version).toBe(version);
        expect(past.conversation).toEqual(view);
        expect(past.timeline.filter((item) => item.kind === 'customer')).toHaveLength(version >= 3 ? 1 : 0);
        expect(past.events).toEqual(
          events.map((e) => ({
            version: e.version,
            type: e.type,
            at: new Date(e.recordedAt).toISOString(),
            actor: e.metadata.actor ?? null,
          })),
        );
      }
      const now = await ada.caller.conversations.at({ conversationId: 'tt-1', at: { version: latest } });
      expect(now.conversation).toMatchObject({ labels: ['customs'], priority: 'high' });
      expect(now.events.at(-1)).toMatchObject({
        type: 'PriorityChanged',
        actor: { kind: 'agent', id: 'ada' },
      });
      // A version past the end is the conversation as it is now.
      expect(
        (await ada.caller.conversations.at({ conversationId: 'tt-1', at: { version: latest + 10 } })).version,
      ).toBe(latest);
    },
  );

  it.skipIf(!enabled)(
    '[TT3] gives the state as of a time: before the label it had none, before it started it was nothing',
    async () => {
      const past = await ana.caller.conversations.at({ conversationId: 'tt-1', at: beforeLabel });
      expect(past.conversation).toMatchObject({ contact: { name: NAME }, labels: [], priority: 'none' });
      expect(past.events.map((e) => e.type)).not.toContain('LabelAdded');
      expect(past.events.every((e) => e.at <= beforeLabel)).toBe(true);
      expect(past.conversation).toEqual((await foldedView('tt-1', past.version)).view);
      const before = await ana.caller.conversations.at({
        conversationId: 'tt-1',
        at: '2020-01-01T00:00:00Z',
      });
      expect(before).toMatchObject({ conversation: null, version: 0, events: [] });
    },
  );

  it.skipIf(!enabled)(
    "[TT4] refuses another tenant's conversation as NOT_FOUND, the same as a missing one, and an agent outside its inbox too; bad input is BAD_REQUEST",
    async () => {
      await expect(
        gus.caller.conversations.at({ conversationId: 'tt-1', at: { version: 3 } }),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(
        ada.caller.conversations.at({ conversationId: 'nobody', at: { version: 3 } }),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await receive('tt-elsewhere', 'back-office', 'hello from another inbox', {
        id: '4917600000999',
        name: 'Otto Other',
        handle: '+4917600000999',
      });
      await expect(
        ana.caller.conversations.at({ conversationId: 'tt-elsewhere', at: { version: 1 } }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(
        (await ada.caller.conversations.at({ conversationId: 'tt-elsewhere', at: { version: 1 } })).version,
      ).toBe(1);
      const malformed: unknown[] = ['yesterday', '2026-12-07', { version: -1 }, { version: 1.5 }];
      for (const at of malformed) {
        await expect(
          ada.caller.conversations.at({ conversationId: 'tt-1', at: at as never }),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      }
    },
  );

  it.skipIf(!enabled)(
    '[18-TT1] time travel to before an erasure shows "[erased]", not the old content; the events, their times and actors stay',
    async () => {
      const before = await ada.caller.conversations.at({ conversationId: 'tt-1', at: beforeLabel });
      expect(JSON.stringify(before)).toContain(TEXT);
      expect(JSON.stringify(before)).toContain(NAME);
      await ada.caller.contacts.erase({ conversationId: 'tt-1', reason: 'their request' });
      await h.settle();
      const after = await ada.caller.conversations.at({ conversationId: 'tt-1', at: beforeLabel });
      const shown = JSON.stringify(after);
      for (const secret of [TEXT, NAME, PHONE, PHONE.slice(1)]) expect(shown).not.toContain(secret);
      expect(after.conversation).toMatchObject({ contact: { id: ERASED, name: ERASED, handle: ERASED } });
      expect(after.timeline).toEqual([
        expect.objectContaining({ kind: 'customer', content: { type: 'text', text: ERASED } }),
      ]);
      expect(after.events).toEqual(before.events);
      const latest = await h.services.store.streamVersion(demo, streamId('conversation-tt-1'));
      const now = await ada.caller.conversations.at({ conversationId: 'tt-1', at: { version: latest } });
      expect(now.conversation).toMatchObject({ contact: { name: ERASED }, labels: ['customs'] });
    },
  );
});
