import { tenantId } from '@parley/domain';
import { isTrackedEnvelope } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncEvent } from '../src/sync/events';
import type { LiveMessage } from '../src/sync/live';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');
const globex = tenantId('globex');
const PHONE = '4917600018181';
const NAME = 'Nora Noticed';
const TEXT = 'my address is Erasestrasse 18';
const REASON = `Nora Noticed asked to be forgotten (${PHONE})`;

/** Pages of catch-up from `cursor` to the log's end. */
async function catchUpAll(caller: Caller, cursor: string | null) {
  const events: SyncEvent[] = [];
  for (;;) {
    const page = await caller.sync.catchUp({ cursor, limit: 1000 });
    if (page.kind !== 'events') throw new Error(`unexpected ${JSON.stringify(page)}`);
    events.push(...page.events);
    cursor = page.cursor;
    if (!page.hasMore) return { events, cursor };
  }
}

/** Reads a live stream until `until` holds for an event; returns the events read (that one included). */
async function readLiveUntil(
  stream: AsyncIterable<unknown>,
  until: (event: SyncEvent) => boolean,
): Promise<SyncEvent[]> {
  const seen: SyncEvent[] = [];
  for await (const message of stream) {
    const data = (isTrackedEnvelope(message) ? message[1] : message) as LiveMessage;
    if (data.kind !== 'event') throw new Error(`unexpected ${JSON.stringify(data)}`);
    seen.push(data.event);
    if (until(data.event)) return seen;
  }
  throw new Error('the live stream ended');
}

const notices = (events: readonly SyncEvent[]) => events.filter((event) => event.type === 'ContactErased');

describe.each(API_BACKENDS)('the erasure notice in the sync feed on %s (decision 0029)', (kind, enabled) => {
  let h: ApiHarness;
  let ana: Caller;
  let ada: Caller;
  let gus: Caller;
  let gina: Caller;
  /** Where each caller's device stood before the erasure: a device offline since then. */
  const before: Record<string, string> = {};
  const live: Record<string, AsyncIterable<unknown>> = {};

  /** The contact writes on two channels: one conversation in ana's inbox, one in an inbox she is not in. */
  async function receive(conversationId: string, inboxId: string, phone = PHONE) {
    await h.services.grains.conversation(demo, conversationId).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId,
        platform: 'whatsapp',
        externalMessageId: `wamid.${conversationId}`,
        contact: { id: phone, name: NAME, handle: `+${phone}` },
        content: { type: 'text', text: TEXT },
        sentAt: h.now() - 1000,
      },
    });
  }

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
    gina = (await h.signIn('gina@globex.parley.test')).caller;
    await receive('notice-seen', 'support');
    await receive('notice-hidden', 'nobody-works-here');
    await h.settle();
    for (const [name, caller] of Object.entries({ ana, ada, gus, gina })) {
      before[name] = (await catchUpAll(caller, null)).cursor;
    }
    // Live streams open before the erasure; each test reads its own to an end (which closes it).
    for (const [name, caller] of Object.entries({ ana, gus, gina })) {
      live[name] = await caller.sync.live({ cursor: before[name]! });
    }
    await ada.contacts.erase({ conversationId: 'notice-seen', reason: REASON });
    // A later event of each tenant, so a live reader knows it has read past the erasure.
    await ada.conversations.label({ conversationId: 'demo-2', label: 'after-erasure', action: 'add' });
    await h.services.grains.conversation(globex, 'globex-1').ask({
      type: 'AddLabel',
      data: { label: 'after-erasure', at: h.now() },
    });
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  const isMarker = (event: SyncEvent) => event.type === 'LabelAdded' && event.data.label === 'after-erasure';

  it.skipIf(!enabled)(
    '[29-SY1] a device offline since before the erasure catches up to one notice naming only the conversation ids it may see',
    async () => {
      const { events } = await catchUpAll(ana, before.ana!);
      expect(notices(events)).toHaveLength(1);
      const [notice] = notices(events);
      expect(notice!.streamId).toMatch(/^contact-/);
      expect(notice!.data).toEqual({ conversations: ['notice-seen'] });
      expect(notice!.metadata).toEqual({});
      // No personal data: not the reason an admin wrote, nor who erased.
      const wire = JSON.stringify(notice);
      for (const secret of [PHONE, NAME, TEXT, 'forgotten']) expect(wire).not.toContain(secret);
      // The admin sees both conversations of the contact.
      const admin = await catchUpAll(ada, before.ada!);
      const named = notices(admin.events).map((event) => (event.data.conversations as string[]).toSorted());
      expect(named).toEqual([['notice-hidden', 'notice-seen']]);
    },
  );

  it.skipIf(!enabled)('[29-SY2] the live stream carries the same notice as it commits', async () => {
    const seen = await readLiveUntil(live.ana!, isMarker);
    expect(notices(seen).map((event) => event.data)).toEqual([{ conversations: ['notice-seen'] }]);
    const caughtUp = notices((await catchUpAll(ana, before.ana!)).events);
    expect(notices(seen)).toEqual(caughtUp);
  });

  it.skipIf(!enabled)(
    '[29-SY3] another tenant’s admin and agents get no notice, by catch-up or live',
    async () => {
      for (const [name, caller] of [
        ['gus', gus],
        ['gina', gina],
      ] as const) {
        const { events } = await catchUpAll(caller, before[name]!);
        expect(events.some(isMarker)).toBe(true);
        expect(notices(events)).toEqual([]);
        expect(JSON.stringify(events)).not.toContain('notice-seen');
        const seen = await readLiveUntil(live[name]!, isMarker);
        expect(notices(seen)).toEqual([]);
      }
    },
  );

  it.skipIf(!enabled)(
    '[29-SY5] an agent who sees none of the erased conversations gets no notice; an admin does',
    async () => {
      await receive('notice-elsewhere', 'nobody-works-here', '4917600029292');
      const from = { ana: (await catchUpAll(ana, null)).cursor, ada: (await catchUpAll(ada, null)).cursor };
      await ada.contacts.erase({ conversationId: 'notice-elsewhere', reason: 'asked to be forgotten' });
      const forAna = await catchUpAll(ana, from.ana);
      expect(notices(forAna.events)).toEqual([]);
      expect(JSON.stringify(forAna.events)).not.toContain('notice-elsewhere');
      const forAda = await catchUpAll(ada, from.ada);
      expect(notices(forAda.events).map((event) => event.data)).toEqual([
        { conversations: ['notice-elsewhere'] },
      ]);
    },
  );

  it.skipIf(!enabled)(
    '[29-SY4] a device that resyncs after the erasure reloads the conversation as "[erased]", never in clear',
    async () => {
      const answer = await ana.sync.catchUp({ cursor: 'not-a-cursor', limit: 10 });
      expect(answer.kind).toBe('resync');
      const items = [];
      for (let cursor: string | null = null; ;) {
        const page = await ana.conversations.list({ filter: 'all', cursor, limit: 100 });
        items.push(...page.items);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      const erased = items.find((item) => item.conversationId === 'notice-seen');
      expect(erased?.contact).toEqual({ id: '[erased]', name: '[erased]', handle: '[erased]' });
      const opened = JSON.stringify(await ana.conversations.get({ conversationId: 'notice-seen' }));
      for (const secret of [PHONE, NAME, TEXT]) expect(opened).not.toContain(secret);
      expect(JSON.stringify(items)).not.toContain(NAME);
    },
  );
});
