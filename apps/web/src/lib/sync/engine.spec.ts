import type { JsonObject } from '@parley/domain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyDb } from '../db/schema';
import {
  SyncEngine,
  type BurstLimits,
  type CatchUpAnswer,
  type LiveHandlers,
  type SyncApi,
  type SyncEvent,
} from './engine';

const T0 = 1_800_000_000_000;
let db: ParleyDb;
afterEach(async () => {
  db.close();
  await db.delete();
});

let position = 0;
function event(conversationId: string, version: number, type: string, data: JsonObject): SyncEvent {
  position += 1;
  return {
    id: `e${position}`,
    streamId: `conversation-${conversationId}`,
    version,
    type,
    data,
    metadata: {},
    recordedAt: T0 + position,
    cursor: `ep.${position}`,
  };
}

const contact = { id: 'k1', name: 'Maria Lopez', handle: '+34 600' };
const started = (id: string) =>
  event(id, 1, 'ConversationStarted', {
    conversationId: id,
    inboxId: 'support',
    platform: 'whatsapp',
    contact,
    at: T0,
  });
const inbound = (id: string, version: number, text: string, sentAt = T0 + version) =>
  event(id, version, 'InboundMessageReceived', {
    externalMessageId: `x${version}`,
    contact,
    content: { type: 'text', text },
    sentAt,
  });

/** A server log in memory, paged like `sync.catchUp`. */
class FakeSyncApi implements SyncApi {
  log: SyncEvent[] = [];
  resyncNext = false;
  catchUpCalls: (string | null)[] = [];
  failCatchUp = 0;
  live = vi.fn((_cursor: string, handlers: LiveHandlers) => {
    this.handlers = handlers;
    return { unsubscribe: vi.fn() };
  });
  handlers: LiveHandlers | null = null;

  catchUp(cursor: string | null, limit: number): Promise<CatchUpAnswer> {
    this.catchUpCalls.push(cursor);
    if (this.failCatchUp > 0) {
      this.failCatchUp -= 1;
      return Promise.reject(new Error('offline'));
    }
    const head = this.log.at(-1)?.cursor ?? 'ep.0';
    if (this.resyncNext) {
      this.resyncNext = false;
      return Promise.resolve({ kind: 'resync', reason: 'cursor-unknown', cursor: head });
    }
    const start = cursor === null ? 0 : this.log.findIndex((e) => e.cursor === cursor) + 1;
    const events = this.log.slice(start, start + limit);
    return Promise.resolve({
      kind: 'events',
      events,
      cursor: events.at(-1)?.cursor ?? cursor ?? 'ep.0',
      hasMore: start + limit < this.log.length,
    });
  }

  list() {
    return Promise.resolve({
      items: [
        {
          conversationId: 'c9',
          inboxId: 'support',
          platform: 'whatsapp' as const,
          contact,
          status: 'open' as const,
          snoozedUntil: null,
          assigneeId: null,
          labels: [],
          priority: 'none' as const,
          cycle: 1,
          unreadCount: 2,
          lastMessage: null,
          lastCustomerMessageAt: T0,
          windowClosesAt: T0 + 86_400_000,
          lastActivityAt: T0,
          version: 3,
        },
      ],
      nextCursor: null,
    });
  }

  conversationEvents(conversationId: string, afterVersion: number) {
    return Promise.resolve(
      [started(conversationId), inbound(conversationId, 2, 'a'), inbound(conversationId, 3, 'b')].filter(
        (e) => e.version > afterVersion,
      ),
    );
  }
}

function engineFor(api: FakeSyncApi, onCaughtUp = vi.fn(), burst?: BurstLimits) {
  db = new ParleyDb(`sync-${Math.random()}`);
  return new SyncEngine({
    db,
    api,
    onCaughtUp,
    pageSize: 2,
    clock: () => T0,
    retryMs: () => 10,
    ...(burst ? { burst } : {}),
  });
}

describe('catching up', () => {
  it('pages to the end, folding the list rows, then listens live from the last cursor', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1'), inbound('c1', 2, 'hello'), started('c2'), inbound('c1', 3, 'again')];
    const onCaughtUp = vi.fn();
    const engine = engineFor(api, onCaughtUp);
    await engine.start();
    expect(api.catchUpCalls).toEqual([null, 'ep.2']);
    expect(await db.events.count()).toBe(4);
    expect(await db.conversations.get('c1')).toMatchObject({
      unreadCount: 2,
      lastMessage: { preview: 'again', from: 'customer' },
      version: 3,
    });
    expect((await db.cursors.get('events'))?.cursor).toBe('ep.4');
    expect(onCaughtUp).toHaveBeenCalledOnce();
    expect(api.live).toHaveBeenCalledWith('ep.4', expect.anything());
  });

  it('writes a page and its cursor together: a failed page moves neither', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    const engine = engineFor(api);
    await engine.start();
    const before = (await db.cursors.get('events'))?.cursor;
    // A page with an event that cannot be stored (no stream id) fails as a whole.
    await expect(
      engine.applyPage([{ ...inbound('c1', 2, 'x'), streamId: undefined as never }], 'ep.99'),
    ).rejects.toThrow();
    expect((await db.cursors.get('events'))?.cursor).toBe(before);
    expect(await db.events.count()).toBe(1);
    expect((await db.conversations.get('c1'))?.unreadCount).toBe(0);
  });

  it('skips events it already folded (a repeated page)', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1'), inbound('c1', 2, 'once')];
    const engine = engineFor(api);
    await engine.start();
    await engine.applyPage([inbound('c1', 2, 'once')], 'ep.2');
    expect((await db.conversations.get('c1'))?.unreadCount).toBe(1);
  });

  it('clears and reloads on a resync answer, keeping the outbox and the drafts', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    const engine = engineFor(api);
    await engine.start();
    await db.outbox.put({
      clientMessageId: 'm1',
      conversationId: 'c1',
      sequence: 1,
      command: {
        type: 'QueueReply',
        clientMessageId: 'm1',
        content: { type: 'text', text: 'keep me' },
        tag: null,
      },
      agentId: 'ana',
      createdAt: T0,
      attempts: 0,
      lastError: null,
      refusal: null,
    });
    api.resyncNext = true;
    await engine.catchUp();
    expect(await db.conversations.toCollection().primaryKeys()).toEqual(['c9']);
    expect(await db.events.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    expect((await db.conversations.get('c9'))?.hydrated).toBe(false);
    await engine.hydrate('c9');
    expect(await db.events.where('[conversationId+version]').between(['c9', 0], ['c9', 99]).count()).toBe(3);
    expect((await db.conversations.get('c9'))?.hydrated).toBe(true);
  });
});

describe('the live stream', () => {
  it('applies live events, and on loss catches up again before listening', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    const onCaughtUp = vi.fn();
    const engine = engineFor(api, onCaughtUp);
    await engine.start();
    const live = inbound('c1', 2, 'live one');
    api.log.push(live);
    api.handlers!.onEvent(live);
    await vi.waitFor(async () => expect((await db.conversations.get('c1'))?.unreadCount).toBe(1));
    expect(engine.phase).toBe('live');
    // The connection drops; meanwhile more was committed.
    api.log.push(inbound('c1', 3, 'missed'));
    api.handlers!.onLost(new Error('network'));
    expect(engine.phase).toBe('offline');
    await vi.waitFor(() => expect(onCaughtUp).toHaveBeenCalledTimes(2));
    expect((await db.conversations.get('c1'))?.unreadCount).toBe(2);
    expect(api.live).toHaveBeenLastCalledWith('ep.' + String(position), expect.anything());
  });

  it('retries a failed catch-up', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    api.failCatchUp = 1;
    const onCaughtUp = vi.fn();
    const engine = engineFor(api, onCaughtUp);
    await engine.start();
    expect(engine.phase).toBe('offline');
    await vi.waitFor(() => expect(onCaughtUp).toHaveBeenCalledOnce());
    engine.stop();
  });
});

describe('live events in bursts', () => {
  it('writes events that arrive together in one transaction, in order, with the last cursor', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    const engine = engineFor(api);
    await engine.start();
    const pages = vi.spyOn(engine, 'applyPage');
    const live = [inbound('c1', 2, 'one'), inbound('c1', 3, 'two'), inbound('c1', 4, 'three')];
    for (const event of live) api.handlers!.onEvent(event);
    await vi.waitFor(async () => expect((await db.cursors.get('events'))?.cursor).toBe(live[2]!.cursor));
    expect(pages).toHaveBeenCalledOnce();
    expect(pages).toHaveBeenCalledWith(live, live[2]!.cursor);
    expect(await db.conversations.get('c1')).toMatchObject({ unreadCount: 3, version: 4 });
    engine.stop();
  });

  it('writes at most the burst size per transaction, the rest in the next, order kept', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    const engine = engineFor(api, vi.fn(), { waitMs: 1, events: 2 });
    await engine.start();
    const pages = vi.spyOn(engine, 'applyPage');
    const live = [2, 3, 4, 5, 6].map((version) => inbound('c1', version, `m${version}`));
    for (const event of live) api.handlers!.onEvent(event);
    await vi.waitFor(() => expect(pages).toHaveBeenCalledTimes(3));
    expect(pages.mock.calls.map(([events]) => events.map((event) => event.version))).toEqual([
      [2, 3],
      [4, 5],
      [6],
    ]);
    expect((await db.conversations.get('c1'))?.version).toBe(6);
    engine.stop();
  });

  it('drops the unwritten events of a lost stream: catch-up brings them from the stored cursor', async () => {
    const api = new FakeSyncApi();
    api.log = [started('c1')];
    const onCaughtUp = vi.fn();
    const engine = engineFor(api, onCaughtUp, { waitMs: 50, events: 500 });
    await engine.start();
    const pages = vi.spyOn(engine, 'applyPage');
    const live = inbound('c1', 2, 'in the air');
    api.log.push(live);
    api.handlers!.onEvent(live);
    api.handlers!.onLost(new Error('network'));
    await vi.waitFor(() => expect(onCaughtUp).toHaveBeenCalledTimes(2));
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Written once, by the catch-up page, never by the lost stream's burst.
    expect(pages).toHaveBeenCalledOnce();
    expect((await db.conversations.get('c1'))?.unreadCount).toBe(1);
    engine.stop();
  });
});
