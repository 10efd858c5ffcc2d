import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyDb } from '../db/schema';
import {
  FakeNotFoundError,
  FakeReplyServer,
  FakeSequenceReusedError,
  FakeUnauthorizedError,
} from '../../test/fake-server';
import { backoffDelay } from './backoff';
import { OutboxFlusher, type BatchLimits, type Failure } from './flusher';
import { memoryLocks, type Locks } from './locks';
import { pendingReplies, queueReply, takeBack } from './queue';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;
let dbs: ParleyDb[] = [];

function openDb(name = `outbox-${Math.random()}`): ParleyDb {
  const db = new ParleyDb(name);
  dbs.push(db);
  return db;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const db of dbs) {
    db.close();
    await db.delete();
  }
  dbs = [];
});

const target = (conversationId = 'c1') => ({
  conversationId,
  platform: 'whatsapp' as const,
  lastCustomerMessageAt: NOW - HOUR,
});

async function queueText(db: ParleyDb, text: string, conversationId = 'c1') {
  const result = await queueReply(
    db,
    target(conversationId),
    { content: { type: 'text', text }, tag: null, agentId: 'ana' },
    { now: NOW, templates: [] },
  );
  if (!result.ok) throw new Error(result.message);
  return result.row;
}

function classify(error: unknown): Failure {
  if (error instanceof FakeUnauthorizedError) return { kind: 'unauthorized' };
  if (error instanceof FakeSequenceReusedError) return { kind: 'sequence-reused' };
  if (error instanceof FakeNotFoundError) {
    return {
      kind: 'rejected',
      refusal: {
        code: 'CONVERSATION_NOT_FOUND',
        rule: 'CV1',
        message: 'there is no such conversation',
        hint: null,
      },
    };
  }
  return { kind: 'retry', message: error instanceof Error ? error.message : String(error) };
}

let ids = 0;
function flusherFor(
  db: ParleyDb,
  server: FakeReplyServer,
  locks: Locks = memoryLocks(),
  batch?: BatchLimits,
) {
  return new OutboxFlusher({
    db,
    send: server.send,
    classify,
    locks,
    lockName: `flush:${db.name}`,
    clock: () => NOW,
    random: () => 0.5,
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    ...(batch ? { batch } : {}),
    newClientId: () => `client-${++ids}`,
  });
}

describe('queueing a reply', () => {
  it('writes the row with the next sequence number and one client id, in one transaction', async () => {
    const db = openDb();
    const first = await queueText(db, 'one');
    const second = await queueText(db, 'two');
    expect([first.sequence, second.sequence]).toEqual([1, 2]);
    expect(
      (await pendingReplies(db)).map((row) => row.command.type === 'QueueReply' && row.command.content),
    ).toEqual([
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
    ]);
    const counter = (await db.meta.get('outbox'))?.value as { clientId: string; nextSequence: number };
    expect(counter.nextSequence).toBe(3);
  });

  it('[WA2] asks for a template when the window is closed, and queues nothing', async () => {
    const db = openDb();
    const result = await queueReply(
      db,
      { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: NOW - 25 * HOUR },
      { content: { type: 'text', text: 'late' }, tag: null, agentId: 'ana' },
      { now: NOW, templates: [] },
    );
    expect(result).toMatchObject({ ok: false, code: 'WINDOW_CLOSED', hint: 'send an approved template' });
    expect(await db.outbox.count()).toBe(0);
  });

  it('[WA4] refuses text over the platform limit before queueing', async () => {
    const db = openDb();
    const result = await queueReply(
      db,
      target(),
      { content: { type: 'text', text: 'x'.repeat(4097) }, tag: null, agentId: 'ana' },
      { now: NOW, templates: [] },
    );
    expect(result).toMatchObject({ ok: false, code: 'TEXT_TOO_LONG', rule: 'WA4' });
  });

  it('queues an approved template outside the window', async () => {
    const db = openDb();
    const result = await queueReply(
      db,
      { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: NOW - 25 * HOUR },
      {
        content: { type: 'template', name: 'follow_up', language: 'en', params: ['Maria'] },
        tag: null,
        agentId: 'ana',
      },
      { now: NOW, templates: [{ name: 'follow_up', language: 'en', approved: true, paramCount: 1 }] },
    );
    expect(result.ok).toBe(true);
  });

  it('lets a reply no request carried be taken back, but not one the server may have', async () => {
    const db = openDb();
    const row = await queueText(db, 'oops');
    expect(await takeBack(db, row.clientMessageId)).toMatchObject({ ok: true });
    const sent = await queueText(db, 'on its way');
    await db.outbox.update(sent.clientMessageId, { attempts: 1 });
    expect(await takeBack(db, sent.clientMessageId)).toEqual({ ok: false, reason: 'in-flight' });
  });
});

describe('flushing the outbox', () => {
  it('sends every reply once, in order, and empties the outbox only on acknowledgement', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    for (const text of ['1', '2', '3', '4', '5']) await queueText(db, text);
    await flusherFor(db, server).flush();
    expect(server.applied.map((reply) => reply.text)).toEqual(['1', '2', '3', '4', '5']);
    expect(await db.outbox.count()).toBe(0);
    // Each acknowledged reply shows as a provisional event until sync brings the real one.
    const events = await db.events
      .where('[conversationId+version]')
      .between(['c1', 0], ['c1', Infinity])
      .toArray();
    expect(events.map((event) => event.type)).toEqual(Array(5).fill('ReplyQueued'));
  });

  it('resends a reply whose answer was lost and the server keeps it once (duplicate answer)', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'a');
    await queueText(db, 'b');
    server.loseAnswer = 1;
    const flusher = flusherFor(db, server);
    await flusher.flush();
    expect(flusher.current.phase).toBe('waiting');
    expect(await db.outbox.count()).toBe(2);
    await flusher.flush({ resetBackoff: true });
    expect(server.applied.map((reply) => reply.text)).toEqual(['a', 'b']);
    expect(server.requests.map((request) => request.sequence)).toEqual([1, 2, 1, 2]);
    expect(await db.outbox.count()).toBe(0);
  });

  it('survives a "tab" that died after the server committed: a new flusher finishes the job', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'a');
    let release!: () => void;
    server.gate = new Promise((resolve) => (release = resolve));
    const dying = flusherFor(db, server);
    const flushing = dying.flush();
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    dying.stop(); // the tab is gone; the request still reaches the server
    server.gate = null;
    release();
    await flushing;
    expect(server.applied).toHaveLength(1);
    expect(await db.outbox.count()).toBe(1);
    await flusherFor(db, server).flush();
    expect(server.applied).toHaveLength(1);
    expect(await db.outbox.count()).toBe(0);
  });

  it('retries network errors with growing, jittered delays and releases the lock meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'a');
    server.failBefore = 2;
    const locks = memoryLocks();
    const flusher = flusherFor(db, server, locks);
    await flusher.flush();
    expect(flusher.current).toMatchObject({
      phase: 'waiting',
      retryAt: NOW + 750,
      lastError: 'fetch failed',
    });
    // Another tab can take the lock while this one waits.
    expect(
      await locks.request(`flush:${db.name}`, { ifAvailable: true }, (lock) =>
        Promise.resolve(lock !== null),
      ),
    ).toBe(true);
    await vi.advanceTimersByTimeAsync(750);
    await vi.waitFor(() => expect(flusher.current.retryAt).toBe(NOW + 1_500));
    await vi.advanceTimersByTimeAsync(1_500);
    await vi.waitFor(() => expect(flusher.current.phase).toBe('idle'));
    expect(server.applied).toHaveLength(1);
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(10, () => 1)).toBe(30_000);
  });

  it('keeps a refusal on the reply with its reason, and carries on with the next one', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    server.refuseTextPrefix = 'late';
    const refused = await queueText(db, 'late reply');
    await queueText(db, 'fine');
    await flusherFor(db, server).flush();
    expect(server.applied.map((reply) => reply.text)).toEqual(['fine']);
    const row = await db.outbox.get(refused.clientMessageId);
    expect(row).toMatchObject({
      refusal: { code: 'WINDOW_CLOSED', rule: 'WA2', hint: 'Send a template instead' },
      refusedSequence: 1,
    });
    expect(row?.sequence).toBeUndefined();
    expect(await pendingReplies(db)).toEqual([]);
  });

  it('closes the gap a reply to a missing conversation leaves, renumbering from what the server expects', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    const gone = await queueText(db, 'to nowhere', 'gone');
    await queueText(db, 'x');
    await queueText(db, 'y');
    await flusherFor(db, server).flush();
    expect(server.applied.map((reply) => reply.text)).toEqual(['x', 'y']);
    expect((await db.outbox.get(gone.clientMessageId))?.refusal?.code).toBe('CONVERSATION_NOT_FOUND');
    // 1-3: NOT_FOUND for the first; 2-3: out of order (1 expected); then renumbered 1-2.
    expect(server.requests.map((request) => request.sequence)).toEqual([1, 2, 3, 2, 3, 1, 2]);
    const next = await queueText(db, 'z');
    expect(next.sequence).toBe(3);
  });

  it('closes the gap a discarded reply leaves', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    const discarded = await queueText(db, 'never mind');
    await queueText(db, 'kept');
    await takeBack(db, discarded.clientMessageId);
    await flusherFor(db, server).flush();
    expect(server.applied.map((reply) => reply.text)).toEqual(['kept']);
  });

  it('starts a new numbering when the server holds another message under a number, sending nothing twice', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'a');
    await flusherFor(db, server).flush();
    // The device lost its counter (restored from an old copy): number 1 is reused.
    const counter = (await db.meta.get('outbox'))!.value as { clientId: string };
    await db.meta.put({ key: 'outbox', value: { ...counter, nextSequence: 1 } });
    await queueText(db, 'b');
    await flusherFor(db, server).flush();
    expect(server.applied.map((reply) => reply.text)).toEqual(['a', 'b']);
    expect(server.requests.at(-1)).toMatchObject({ sequence: 1, clientId: 'client-1' });
  });

  it('waits for sign-in on UNAUTHORIZED and keeps the replies', async () => {
    const db = openDb();
    const flusher = flusherFor(db, {
      send: () => Promise.reject(new FakeUnauthorizedError()),
    } as unknown as FakeReplyServer);
    await queueText(db, 'a');
    await flusher.flush();
    expect(flusher.current.phase).toBe('unauthorized');
    expect(await db.outbox.count()).toBe(1);
  });

  it('lets exactly one of two tabs flush, keeps the order, and loses nothing', async () => {
    const db1 = openDb('shared-outbox');
    const db2 = new ParleyDb('shared-outbox');
    dbs.push(db2);
    const server = new FakeReplyServer();
    const locks = memoryLocks();
    for (let i = 0; i < 6; i++) await queueText(i % 2 ? db2 : db1, `r${i}`);
    let concurrent = 0;
    let most = 0;
    const counting =
      (send: FakeReplyServer['send']) => async (request: Parameters<FakeReplyServer['send']>[0]) => {
        most = Math.max(most, ++concurrent);
        try {
          return await send(request);
        } finally {
          concurrent--;
        }
      };
    const tab = (db: ParleyDb) =>
      new OutboxFlusher({
        db,
        send: counting(server.send),
        classify,
        locks,
        lockName: 'flush:shared-outbox',
        newClientId: () => 'unused',
      });
    await Promise.all([tab(db1).flush(), tab(db2).flush(), tab(db1).flush()]);
    expect(most).toBe(1);
    expect(server.applied.map((reply) => reply.text)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  });
});

describe('flushing in batches', () => {
  const texts = (server: FakeReplyServer) => server.applied.map((reply) => reply.text);
  const sequences = (server: FakeReplyServer) => server.requests.map((request) => request.sequence);

  it('sends a run of replies per request, in sequence order, up to the batch size', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    for (let i = 1; i <= 7; i++) await queueText(db, `r${i}`, i % 2 ? 'c1' : 'c2');
    await flusherFor(db, server, memoryLocks(), { replies: 3, contentChars: 10_000 }).flush();
    expect(server.batchSizes).toEqual([3, 3, 1]);
    expect(sequences(server)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(texts(server)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    expect(await db.outbox.count()).toBe(0);
  });

  it('keeps a request under its content limit, yet sends a reply larger than the limit alone', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'x'.repeat(300));
    await queueText(db, 'small');
    await queueText(db, 'also small');
    await flusherFor(db, server, memoryLocks(), { replies: 50, contentChars: 200 }).flush();
    expect(server.batchSizes).toEqual([1, 2]);
    expect(await db.outbox.count()).toBe(0);
  });

  it('resends a batch the network cut off halfway: the applied part is answered as duplicates, nothing twice', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    for (let i = 1; i <= 5; i++) await queueText(db, `r${i}`);
    server.dropAfter = 2;
    const flusher = flusherFor(db, server);
    await flusher.flush();
    // Two were applied, but no answer came back: all five stay, counted as carried.
    expect(flusher.current.phase).toBe('waiting');
    expect(await db.outbox.count()).toBe(5);
    expect((await pendingReplies(db)).map((row) => row.attempts)).toEqual([1, 1, 1, 1, 1]);
    await flusher.flush({ resetBackoff: true });
    expect(sequences(server)).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    expect(texts(server)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(await db.outbox.count()).toBe(0);
  });

  it('records each answer of a batch: a refusal in the middle keeps its reason, the rest are sent', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    server.refuseTextPrefix = 'late';
    await queueText(db, 'first');
    const refused = await queueText(db, 'late one');
    await queueText(db, 'third');
    await flusherFor(db, server).flush();
    expect(server.batchSizes).toEqual([3]);
    expect(texts(server)).toEqual(['first', 'third']);
    expect(await db.outbox.get(refused.clientMessageId)).toMatchObject({
      refusal: { code: 'WINDOW_CLOSED' },
      refusedSequence: 2,
    });
    expect(await pendingReplies(db)).toEqual([]);
  });

  it('keeps what a batch applied before an error, and meets the error with the next request', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'a');
    const gone = await queueText(db, 'to nowhere', 'gone');
    await queueText(db, 'b');
    await flusherFor(db, server).flush();
    // [1 2 3] stops before 2 (NOT_FOUND); [2 3] throws it; [3] is out of order; renumbered [2].
    expect(sequences(server)).toEqual([1, 2, 3, 2, 3, 3, 2]);
    expect(texts(server)).toEqual(['a', 'b']);
    expect((await db.outbox.get(gone.clientMessageId))?.refusal?.code).toBe('CONVERSATION_NOT_FOUND');
    expect(await pendingReplies(db)).toEqual([]);
  });

  it('renumbers from the out-of-order answer that ends a batch and sends the rest in order', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    await queueText(db, 'a');
    const discarded = await queueText(db, 'never mind');
    await queueText(db, 'b');
    await queueText(db, 'c');
    await takeBack(db, discarded.clientMessageId);
    await flusherFor(db, server).flush();
    // [1 3 4]: 1 applied, 3 out of order (2 expected); then [2 3].
    expect(sequences(server)).toEqual([1, 3, 4, 2, 3]);
    expect(texts(server)).toEqual(['a', 'b', 'c']);
  });

  it('marks every reply of the request in flight as sending, and none once answered', async () => {
    const db = openDb();
    const server = new FakeReplyServer();
    const rows = [await queueText(db, 'a'), await queueText(db, 'b')];
    let release!: () => void;
    server.gate = new Promise((resolve) => (release = resolve));
    const flusher = flusherFor(db, server);
    const flushing = flusher.flush();
    await vi.waitFor(() => expect(server.requests).toHaveLength(2));
    expect(flusher.current.inFlight).toEqual(rows.map((row) => row.clientMessageId));
    release();
    await flushing;
    expect(flusher.current.inFlight).toEqual([]);
  });
});
