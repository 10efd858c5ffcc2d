import { tenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalSignals } from '../src/broadcast';
import { createPresenceHub, type PresenceMessage } from '../src/presence';
import { openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');

/** Reads a presence stream in the background; `until` waits for a message matching a test. */
function follow(stream: AsyncIterable<unknown>) {
  const received: PresenceMessage[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  const waiters = new Set<() => void>();
  void (async () => {
    for (;;) {
      const next = await iterator.next().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) return;
      received.push(next.value as PresenceMessage);
      for (const waiter of waiters) waiter();
    }
  })();
  return {
    received,
    async until(test: (message: PresenceMessage) => boolean, what: string): Promise<PresenceMessage> {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const found = received.find(test);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${what} in ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          waiters.add(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    stop: () => void iterator.return?.(),
  };
}

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

const isPresence =
  (agentId: string, activity: string, conversationId = 'demo-1') =>
  (m: PresenceMessage) =>
    m.kind === 'presence' &&
    m.agentId === agentId &&
    m.activity === activity &&
    m.conversationId === conversationId;

describe('#15 presence in conversations (decision 0026)', () => {
  let h: ApiHarness;
  let ada: Caller;
  let ana: Caller;
  let ben: Caller;
  let chloe: Caller;
  let gus: Caller;

  beforeAll(async () => {
    h = await openApiHarness('pglite');
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    ben = (await h.signIn('ben@demo.parley.test')).caller;
    chloe = (await h.signIn('chloe@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
    // A second inbox only Ben works in, with one conversation (as server/test/security/scope.spec.ts).
    await ada.admin.inboxes.create({
      inboxId: 'vip',
      name: 'VIP (web chat)',
      channel: { platform: 'webchat', channelId: 'vip' },
    });
    await ada.admin.inboxes.addMember({ inboxId: 'vip', agentId: 'ben' });
    await h.services.grains.conversation(demo, 'vip-1').ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: 'vip-1',
        inboxId: 'vip',
        platform: 'webchat',
        externalMessageId: 'vip-m1',
        contact: { id: 'c-vera', name: 'Vera Important', handle: 'vera' },
        content: { type: 'text', text: 'hello' },
        sentAt: h.now(),
      },
    });
    await h.settle();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('shows Ana viewing and then typing to Ben, never to Ana herself, and leaving when she leaves', async () => {
    const benSees = follow(await ben.presence.watch({ device: 'ben-tab-0001' }));
    const anaSees = follow(await ana.presence.watch({ device: 'ana-tab-0001' }));
    await benSees.until((m) => m.kind === 'snapshot', 'snapshot');
    await ana.presence.set({ device: 'ana-tab-0001', conversationId: 'demo-1', activity: 'viewing' });
    const viewing = await benSees.until(isPresence('ana', 'viewing'), 'viewing');
    expect(viewing).toMatchObject({ name: 'Ana Agent', inboxId: 'support', device: 'ana-tab-0001' });
    await ana.presence.set({ device: 'ana-tab-0001', conversationId: 'demo-1', activity: 'typing' });
    await benSees.until(isPresence('ana', 'typing'), 'typing');
    // Moving to another conversation leaves the first one.
    await ana.presence.set({ device: 'ana-tab-0001', conversationId: 'demo-2', activity: 'viewing' });
    await benSees.until(isPresence('ana', 'left'), 'left demo-1');
    await benSees.until(isPresence('ana', 'viewing', 'demo-2'), 'viewing demo-2');
    expect(anaSees.received.filter((m) => m.kind === 'presence' && m.agentId === 'ana')).toEqual([]);
    // A new watcher starts from who is there now.
    const adaSees = follow(await ada.presence.watch({ device: 'ada-tab-0001' }));
    const snapshot = await adaSees.until((m) => m.kind === 'snapshot', 'snapshot');
    expect(
      snapshot.kind === 'snapshot' && snapshot.presences.map((p) => [p.agentId, p.conversationId]),
    ).toEqual([['ana', 'demo-2']]);
    for (const stream of [benSees, anaSees, adaSees]) stream.stop();
  });

  it('ends a tab’s presence when its stream closes (a closed tab, a lost connection)', async () => {
    const benSees = follow(await ben.presence.watch({ device: 'ben-tab-0002' }));
    const anaStream = follow(await ana.presence.watch({ device: 'ana-tab-0002' }));
    await anaStream.until((m) => m.kind === 'snapshot', 'snapshot');
    await ana.presence.set({ device: 'ana-tab-0002', conversationId: 'demo-3', activity: 'typing' });
    await benSees.until(isPresence('ana', 'typing', 'demo-3'), 'typing');
    anaStream.stop();
    // The stream's end is noticed on its next wake-up: any message on the tenant gives one.
    await chloe.presence.set({ device: 'chloe-tab-01', conversationId: 'demo-4', activity: 'viewing' });
    await benSees.until(isPresence('ana', 'left', 'demo-3'), 'left');
    benSees.stop();
  });

  it('keeps presence inside the tenant: another tenant neither sees it nor can set it on our ids', async () => {
    const gusSees = follow(await gus.presence.watch({ device: 'gus-tab-0001' }));
    const benSees = follow(await ben.presence.watch({ device: 'ben-tab-0003' }));
    await gusSees.until((m) => m.kind === 'snapshot', 'snapshot');
    await benSees.until((m) => m.kind === 'snapshot', 'snapshot');
    expect(
      await refusal(() =>
        gus.presence.set({ device: 'gus-tab-0001', conversationId: 'demo-1', activity: 'typing' }),
      ),
    ).toBe('NOT_FOUND');
    await ana.presence.set({ device: 'ana-tab-0003', conversationId: 'demo-1', activity: 'typing' });
    await benSees.until(isPresence('ana', 'typing'), 'typing');
    // Ben heard Ana, so a leak to Gus would have arrived by now too; Gus never hears a word of demo.
    expect(gusSees.received.filter((m) => m.kind !== 'snapshot')).toEqual([]);
    expect(JSON.stringify(gusSees.received)).not.toMatch(/ana|demo-|support/);
    expect(benSees.received.some((m) => m.kind === 'presence' && m.agentId === 'gus')).toBe(false);
    gusSees.stop();
    benSees.stop();
  });

  it('keeps presence inside the inbox: an agent outside it neither sees it nor can set it', async () => {
    const chloeSees = follow(await chloe.presence.watch({ device: 'chloe-tab-02' }));
    const adaSees = follow(await ada.presence.watch({ device: 'ada-tab-0002' }));
    await chloeSees.until((m) => m.kind === 'snapshot', 'snapshot');
    await adaSees.until((m) => m.kind === 'snapshot', 'snapshot');
    expect(
      await refusal(() =>
        chloe.presence.set({ device: 'chloe-tab-02', conversationId: 'vip-1', activity: 'viewing' }),
      ),
    ).toBe('NOT_FOUND');
    await ben.presence.set({ device: 'ben-tab-0004', conversationId: 'vip-1', activity: 'typing' });
    // The admin works in every inbox and hears it; Chloe, who does not work in vip, does not.
    await adaSees.until(isPresence('ben', 'typing', 'vip-1'), 'ben typing in vip-1');
    await ben.presence.set({ device: 'ben-tab-0004', conversationId: 'demo-1', activity: 'viewing' });
    await chloeSees.until(isPresence('ben', 'viewing', 'demo-1'), 'ben in demo-1');
    expect(JSON.stringify(chloeSees.received)).not.toMatch(/vip/);
    chloeSees.stop();
    adaSees.stop();
  });

  it('tells open contact panels of a new note on the contact at once: ids only, inside the tenant and the inbox, once per note', async () => {
    const chloeSees = follow(await chloe.presence.watch({ device: 'chloe-tab-03' }));
    const adaSees = follow(await ada.presence.watch({ device: 'ada-tab-0003' }));
    const gusSees = follow(await gus.presence.watch({ device: 'gus-tab-0002' }));
    for (const stream of [chloeSees, adaSees, gusSees])
      await stream.until((m) => m.kind === 'snapshot', 'snapshot');
    const changed = (conversationId: string) => (m: PresenceMessage) =>
      m.kind === 'contact' && m.conversationId === conversationId;

    await ben.contacts.addNote({ conversationId: 'vip-1', noteId: 'live-note-1', text: 'prefers e-mail' });
    expect(await adaSees.until(changed('vip-1'), 'vip-1 changed')).toEqual({
      kind: 'contact',
      conversationId: 'vip-1',
    });
    await ana.contacts.addNote({ conversationId: 'demo-1', noteId: 'live-note-2', text: 'called back' });
    await chloeSees.until(changed('demo-1'), 'demo-1 changed');
    // The same note again adds nothing and tells nobody; the next note is told (the stream keeps order).
    await ana.contacts.addNote({ conversationId: 'demo-1', noteId: 'live-note-2', text: 'called back' });
    await ana.contacts.addNote({ conversationId: 'demo-2', noteId: 'live-note-3', text: 'VIP' });
    await chloeSees.until(changed('demo-2'), 'demo-2 changed');
    expect(chloeSees.received.filter(changed('demo-1'))).toHaveLength(1);
    // Chloe does not work in vip; Gus is another tenant: neither hears of these conversations.
    expect(JSON.stringify(chloeSees.received)).not.toMatch(/vip/);
    expect(gusSees.received.filter((m) => m.kind !== 'snapshot')).toEqual([]);
    // Ids only: no note text travels on the stream.
    expect(JSON.stringify(adaSees.received)).not.toMatch(/prefers e-mail|called back/);
    for (const stream of [chloeSees, adaSees, gusSees]) stream.stop();
  });

  it('refuses a malformed device id or activity with a clear error and shows nothing', async () => {
    expect(
      await refusal(() => ana.presence.set({ device: 'x', conversationId: 'demo-1', activity: 'viewing' })),
    ).toBe('BAD_REQUEST');
    expect(
      await refusal(() =>
        ana.presence.set({ device: 'ana-tab-0009', conversationId: 'demo-1', activity: 'shouting' as never }),
      ),
    ).toBe('BAD_REQUEST');
  });
});

describe('the presence hub', () => {
  it('forgets a presence nobody repeats once its time is up (a node that died takes it along)', async () => {
    let now = 1_000;
    const signals = createLocalSignals();
    const hub = createPresenceHub(signals, { now: () => now, sweepMs: 60_000 });
    const who = { conversationId: 'c1', inboxId: 'i1', agentId: 'ana', name: 'Ana', device: 'tab-00001' };
    hub.set(demo, { ...who, activity: 'typing' });
    await Promise.resolve();
    await Promise.resolve();
    expect(hub.snapshot(demo).map((p) => [p.activity, p.ttlMs])).toEqual([['typing', 6_000]]);
    now += 6_000;
    expect(hub.snapshot(demo)).toEqual([]);
    hub.set(demo, { ...who, activity: 'viewing' });
    await Promise.resolve();
    await Promise.resolve();
    now += 29_000;
    expect(hub.snapshot(demo).map((p) => p.ttlMs)).toEqual([1_000]);
    expect(hub.snapshot(tenantId('globex'))).toEqual([]);
    hub.close();
    signals.close();
  });
});
