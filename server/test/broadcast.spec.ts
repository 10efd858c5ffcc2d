import { streamId, tenantId } from '@parley/domain';
import type { Checkpoint, RecordedEvent, TenantId } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import { createLocalBroadcast, topicKey } from '../src/broadcast';
import type { Delivery, Subscription, Topic } from '../src/broadcast';

const acme = tenantId('acme');
const globex = tenantId('globex');

let position = 0;
function recorded(tenant: TenantId, conversation: string, type = 'Happened'): RecordedEvent {
  position += 1;
  return {
    tenantId: tenant,
    streamId: streamId(`conversation-${conversation}`),
    version: 1,
    eventId: `event-${position}`,
    type,
    data: { position },
    metadata: {},
    recordedAt: 0,
    checkpoint: `0:${position}` as Checkpoint,
  };
}

const conversation = (tenant: TenantId, id: string): Topic => ({
  kind: 'conversation',
  tenantId: tenant,
  id,
});

/** A read that timed out stays pending and receives the next delivery, so the next look reuses it. */
const unfinishedReads = new WeakMap<Subscription, Promise<IteratorResult<Delivery, undefined>>>();

async function nextWithin(
  subscription: Subscription,
  ms: number,
): Promise<IteratorResult<Delivery, undefined> | 'timeout'> {
  const read = unfinishedReads.get(subscription) ?? subscription.next();
  unfinishedReads.set(subscription, read);
  const result = await Promise.race([
    read,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms)),
  ]);
  if (result !== 'timeout') unfinishedReads.delete(subscription);
  return result;
}

/** Reads exactly `count` deliveries, failing instead of hanging when fewer arrive. */
async function take(subscription: Subscription, count: number): Promise<Delivery[]> {
  const taken: Delivery[] = [];
  while (taken.length < count) {
    const next = await nextWithin(subscription, 200);
    if (next === 'timeout') throw new Error(`only ${taken.length} of ${count} deliveries arrived`);
    if (next.done) throw new Error(`the subscription ended after ${taken.length} of ${count} deliveries`);
    taken.push(next.value);
  }
  return taken;
}

/** Whether nothing is waiting to be read, without waiting long for it. */
async function nothingPending(subscription: Subscription): Promise<boolean> {
  return (await nextWithin(subscription, 20)) === 'timeout';
}

const types = (deliveries: readonly Delivery[]): string[] =>
  deliveries.map((delivery) => (delivery.kind === 'event' ? delivery.event.type : 'overflow'));

describe('topic keys', () => {
  it('name the tenant first and encode ids', () => {
    expect(topicKey({ kind: 'tenant', tenantId: acme })).toBe('t:acme');
    expect(topicKey(conversation(acme, '42'))).toBe('t:acme/conversation:42');
    expect(topicKey({ kind: 'inbox', tenantId: acme, id: 'sales' })).toBe('t:acme/inbox:sales');
    expect(topicKey({ kind: 'board', tenantId: globex, id: 'q3' })).toBe('t:globex/board:q3');
    // An id with a slash cannot impersonate a different topic.
    expect(topicKey(conversation(acme, '1/conversation:2'))).toBe('t:acme/conversation:1%2Fconversation%3A2');
  });
});

describe('local broadcast', () => {
  it('delivers to each subscriber in publish order, once per event even on two of its topics', async () => {
    const broadcast = createLocalBroadcast();
    const subscriber = broadcast.subscribe([conversation(acme, '1'), { kind: 'tenant', tenantId: acme }]);
    const published = Array.from({ length: 50 }, (_, i) => recorded(acme, String(i % 3), `E${i}`));

    for (const event of published) {
      await broadcast.publish(
        [{ kind: 'tenant', tenantId: acme }, conversation(acme, event.streamId.slice(13))],
        event,
      );
    }

    expect(types(await take(subscriber, 50))).toEqual(published.map((event) => event.type));
    expect(await nothingPending(subscriber)).toBe(true);
  });

  it('keeps topics apart, across tenants too', async () => {
    const broadcast = createLocalBroadcast();
    const acmeOne = broadcast.subscribe([conversation(acme, '1')]);
    const globexOne = broadcast.subscribe([conversation(globex, '1')]);
    const acmeTenant = broadcast.subscribe([{ kind: 'tenant', tenantId: acme }]);
    const everything = broadcast.subscribe('all');

    await broadcast.publish([conversation(acme, '1')], recorded(acme, '1', 'acme-1'));
    await broadcast.publish([conversation(globex, '1')], recorded(globex, '1', 'globex-1'));
    await broadcast.publish([conversation(acme, '2')], recorded(acme, '2', 'acme-2'));
    await broadcast.publish([{ kind: 'tenant', tenantId: acme }], recorded(acme, '3', 'acme-tenant'));
    await broadcast.publish(
      [{ kind: 'inbox', tenantId: acme, id: '1' }],
      recorded(acme, '4', 'acme-inbox-1'),
    );

    expect(types(await take(acmeOne, 1))).toEqual(['acme-1']);
    expect(types(await take(globexOne, 1))).toEqual(['globex-1']);
    expect(types(await take(acmeTenant, 1))).toEqual(['acme-tenant']);
    expect(types(await take(everything, 5))).toEqual([
      'acme-1',
      'globex-1',
      'acme-2',
      'acme-tenant',
      'acme-inbox-1',
    ]);
    for (const subscription of [acmeOne, globexOne, acmeTenant])
      expect(await nothingPending(subscription)).toBe(true);
  });

  it('hands an event straight to a reader that is already waiting', async () => {
    const broadcast = createLocalBroadcast();
    const subscriber = broadcast.subscribe([conversation(acme, '1')]);
    const waiting = take(subscriber, 1);
    await broadcast.publish([conversation(acme, '1')], recorded(acme, '1', 'late'));
    expect(types(await waiting)).toEqual(['late']);
  });

  it('never blocks the publisher on a slow subscriber, which gets one overflow and then fresh events', async () => {
    const broadcast = createLocalBroadcast();
    const topic = conversation(acme, '1');
    const slow = broadcast.subscribe([topic], { bufferSize: 3 });
    const fast = broadcast.subscribe([topic], { bufferSize: 100 });
    const first = recorded(acme, '1', 'first');
    await broadcast.publish([topic], first);
    await take(slow, 1);

    const burst = Array.from({ length: 20 }, (_, i) => recorded(acme, '1', `burst-${i}`));
    // Nobody reads `slow` while these are published; every publish still settles at once.
    const settled = await Promise.race([
      Promise.all(burst.map((event) => broadcast.publish([topic], event))).then(() => 'settled'),
      new Promise((resolve) => setTimeout(() => resolve('blocked'), 100)),
    ]);
    expect(settled).toBe('settled');

    const [overflow] = await take(slow, 1);
    expect(overflow).toEqual({ kind: 'overflow', lastCheckpoint: first.checkpoint, dropped: 20 });
    expect(await nothingPending(slow)).toBe(true);
    expect(broadcast.stats().overflows).toBe(1);

    const after = recorded(acme, '1', 'after');
    await broadcast.publish([topic], after);
    expect(types(await take(slow, 1))).toEqual(['after']);
    expect(types(await take(fast, 22))).toEqual(['first', ...burst.map((event) => event.type), 'after']);
  });

  it("reports the subscription's starting checkpoint when it overflows before reading anything", async () => {
    const broadcast = createLocalBroadcast();
    const topic = conversation(acme, '1');
    const subscriber = broadcast.subscribe([topic], { bufferSize: 1, after: '0:7' as Checkpoint });
    await broadcast.publish([topic], recorded(acme, '1'));
    await broadcast.publish([topic], recorded(acme, '1'));
    expect(await take(subscriber, 1)).toEqual([{ kind: 'overflow', lastCheckpoint: '0:7', dropped: 2 }]);
  });

  it('frees a subscription and its topics on unsubscribe', async () => {
    const broadcast = createLocalBroadcast();
    const topics = [conversation(acme, '1'), conversation(acme, '2')];
    const subscriber = broadcast.subscribe(topics);
    const other = broadcast.subscribe([conversation(acme, '2')]);
    await broadcast.publish(topics, recorded(acme, '1'));
    expect(broadcast.stats()).toMatchObject({ subscriptions: 2, topics: 2 });

    subscriber.unsubscribe();

    expect(subscriber.closed).toBe(true);
    // The unread event went with the buffer.
    expect(await subscriber.next()).toEqual({ done: true, value: undefined });
    expect(broadcast.stats()).toMatchObject({ subscriptions: 1, topics: 1 });
    other.unsubscribe();
    expect(broadcast.stats()).toMatchObject({ subscriptions: 0, topics: 0 });
  });

  it('unsubscribes when a for-await loop breaks', async () => {
    const broadcast = createLocalBroadcast();
    const subscriber = broadcast.subscribe('all');
    await broadcast.publish([conversation(acme, '1')], recorded(acme, '1'));
    for await (const delivery of subscriber) {
      expect(delivery.kind).toBe('event');
      break;
    }
    expect(subscriber.closed).toBe(true);
    expect(broadcast.stats().subscriptions).toBe(0);
  });

  it('ends a waiting reader when its signal aborts, and refuses an aborted signal outright', async () => {
    const broadcast = createLocalBroadcast();
    const controller = new AbortController();
    const subscriber = broadcast.subscribe([conversation(acme, '1')], { signal: controller.signal });
    const waiting = subscriber.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(broadcast.stats()).toMatchObject({ subscriptions: 0, topics: 0 });

    const late = broadcast.subscribe([conversation(acme, '1')], { signal: controller.signal });
    expect(late.closed).toBe(true);
    expect(broadcast.stats().subscriptions).toBe(0);
  });

  it('ends every subscription on close and then publishes to nobody', async () => {
    const broadcast = createLocalBroadcast();
    const one = broadcast.subscribe([conversation(acme, '1')]);
    const all = broadcast.subscribe('all');
    await broadcast.close();
    await broadcast.publish([conversation(acme, '1')], recorded(acme, '1'));
    expect(await one.next()).toEqual({ done: true, value: undefined });
    expect(await all.next()).toEqual({ done: true, value: undefined });
    expect(broadcast.stats()).toMatchObject({ subscriptions: 0, published: 0 });
  });

  it('refuses a second concurrent reader of one subscription', async () => {
    const broadcast = createLocalBroadcast();
    const subscriber = broadcast.subscribe([conversation(acme, '1')]);
    const first = subscriber.next();
    await expect(subscriber.next()).rejects.toThrow(/one reader/);
    subscriber.unsubscribe();
    await first;
  });
});
