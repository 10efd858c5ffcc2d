import { attachmentUrl, type JsonObject } from '@parley/domain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { erasureNoticeText } from '../../components/Notices';
import { ParleyDb } from '../db/schema';
import { keepFile } from '../attachments';
import { OutboxFlusher, type CommandTransport } from '../outbox/flusher';
import { memoryLocks } from '../outbox/locks';
import { queueReply } from '../outbox/queue';
import { FakeReplyServer } from '../../test/fake-server';
import { SyncEngine, type CatchUpAnswer, type ListItem, type SyncApi, type SyncEvent } from './engine';
import {
  dismissErasureNotice,
  dropErased,
  ERASURE_KEY_PREFIX,
  erasureTables,
  noticeOf,
  openErasureNotices,
  type ErasureRecord,
} from './erasure';

const T0 = 1_800_000_000_000;
const ERASED_NAME = 'Erika Erasable';
const ERASED_PHONE = '+49 176 1234 5987';
const ERASED_TEXT = 'call me about invoice 99-4711';
const ERASED_REPLY = 'we will call at 17:30';
const ERASED_DRAFT = 'half-written answer to Erika';
const HASH = 'a'.repeat(64);

let db: ParleyDb;
afterEach(async () => {
  db.close();
  await db.delete();
});

let position = 0;
function event(streamId: string, version: number, type: string, data: JsonObject): SyncEvent {
  position += 1;
  return {
    id: `e${position}`,
    streamId,
    version,
    type,
    data,
    metadata: {},
    recordedAt: T0 + position,
    cursor: `ep.${position}`,
  };
}

/** A conversation as sync brings it: started, a customer message (with a photo), its board card. */
function conversationLog(id: string, contact: { id: string; name: string; handle: string }, text: string) {
  return [
    event(`conversation-${id}`, 1, 'ConversationStarted', {
      conversationId: id,
      inboxId: 'support',
      platform: 'whatsapp',
      contact,
      at: T0,
    }),
    event(`conversation-${id}`, 2, 'InboundMessageReceived', {
      externalMessageId: `x-${id}`,
      contact,
      content: { type: 'text', text },
      sentAt: T0 + 2,
    }),
    event(`conversation-${id}`, 3, 'InboundMessageReceived', {
      externalMessageId: `y-${id}`,
      contact,
      content: {
        type: 'media',
        media: { kind: 'image', url: `https://media.example/${id}.jpg`, mime: 'image/jpeg', size: 10 },
        caption: text,
      },
      sentAt: T0 + 3,
    }),
    event(`card-${id}`, 1, 'CardEnteredWorkflow', {
      conversationId: id,
      workflowId: 'support',
      stageId: 'new',
      cycle: 1,
      orderKey: 'a0',
      entryActions: [],
      by: 'system',
      at: T0,
    }),
  ];
}

const notice = (conversations: string[]) => event('contact-0123abcd', 1, 'ContactErased', { conversations });

/** A list item as `conversations.list` gives it on a resync. */
const listItem = (conversationId: string, contact: ListItem['contact']): ListItem => ({
  conversationId,
  inboxId: 'support',
  platform: 'whatsapp',
  contact,
  status: 'open',
  snoozedUntil: null,
  assigneeId: null,
  labels: [],
  priority: 'none',
  cycle: 1,
  unreadCount: 1,
  lastMessage: null,
  lastCustomerMessageAt: T0,
  windowClosesAt: T0 + 86_400_000,
  lastActivityAt: T0,
  version: 3,
});

/** A server log in memory, paged like `sync.catchUp`; live is never opened here. */
class FakeSyncApi implements SyncApi {
  log: SyncEvent[] = [];
  catchUp(cursor: string | null, limit: number): Promise<CatchUpAnswer> {
    const start = cursor === null ? 0 : this.log.findIndex((e) => e.cursor === cursor) + 1;
    const events = this.log.slice(start, start + limit);
    return Promise.resolve({
      kind: 'events',
      events,
      cursor: events.at(-1)?.cursor ?? cursor ?? 'ep.0',
      hasMore: start + limit < this.log.length,
    });
  }
  items: ListItem[] = [];
  list = () => Promise.resolve({ items: this.items, nextCursor: null });
  conversationEvents = () => Promise.resolve([]);
  live = vi.fn(() => ({ unsubscribe: vi.fn() }));
}

/** Everything the device holds, table by table, as text. */
async function dump(): Promise<string> {
  const tables = await Promise.all(db.tables.map(async (table) => [table.name, await table.toArray()]));
  return JSON.stringify(tables);
}

/** The rows of every table that belong to one conversation. */
async function rowsOf(id: string) {
  return {
    events: await db.events.where('[conversationId+version]').between([id, 0], [id, Infinity]).count(),
    card: await db.events
      .where('[streamId+version]')
      .between([`card-${id}`, 0], [`card-${id}`, Infinity])
      .count(),
    conversation: (await db.conversations.get(id)) !== undefined,
    outbox: await db.outbox.where('conversationId').equals(id).count(),
    draft: (await db.drafts.get(id)) !== undefined,
    profile: (await db.meta.get(`contact-profile:${id}`)) !== undefined,
  };
}

/** Two conversations on the device, each with a queued reply, a draft and a cached profile. */
async function deviceWithTwoConversations() {
  db = new ParleyDb(`erasure-${Math.random()}`);
  const api = new FakeSyncApi();
  api.log = [
    ...conversationLog('c1', { id: 'k1', name: ERASED_NAME, handle: ERASED_PHONE }, ERASED_TEXT),
    ...conversationLog('c2', { id: 'k2', name: 'Tom Baker', handle: '+44 7700' }, 'size of the shoes'),
  ];
  const engine = new SyncEngine({ db, api, pageSize: 3, clock: () => T0, retryMs: () => 10 });
  await engine.catchUp();
  for (const id of ['c1', 'c2']) {
    const target = { conversationId: id, platform: 'whatsapp' as const, lastCustomerMessageAt: T0 };
    const text = id === 'c1' ? ERASED_REPLY : 'we have your size';
    const queued = await queueReply(
      db,
      target,
      { content: { type: 'text', text }, tag: null, agentId: 'ana' },
      { now: T0 + 10, templates: [] },
    );
    expect(queued.ok).toBe(true);
    await db.drafts.put({ conversationId: id, text: id === 'c1' ? ERASED_DRAFT : 'draft', updatedAt: T0 });
    await db.meta.put({ key: `contact-profile:${id}`, value: { notes: [{ text: `${id} profile` }] } });
  }
  // A photo waiting on the device to be uploaded with c1's second reply.
  await keepFile(db, { sha256: HASH, blob: new Blob(['x']), name: 'p.png', mime: 'image/png', size: 1 });
  const photo = await queueReply(
    db,
    { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: T0 },
    {
      content: {
        type: 'media',
        media: { kind: 'image', url: attachmentUrl(HASH), mime: 'image/png', size: 1 },
        caption: null,
      },
      tag: null,
      agentId: 'ana',
    },
    { now: T0 + 11, templates: [] },
  );
  expect(photo.ok).toBe(true);
  return { api, engine };
}

describe('an erasure notice on the device (decision 0029)', () => {
  it('[29-DV1] drops every table’s rows of the named conversation and nothing of the others', async () => {
    const { api, engine } = await deviceWithTwoConversations();
    const before = await rowsOf('c2');
    expect(await rowsOf('c1')).toEqual({ ...before, outbox: 2 });
    const otherTables = await dump();
    expect(otherTables).toContain(ERASED_NAME);

    api.log.push(notice(['c1']));
    await engine.catchUp();

    expect(await rowsOf('c1')).toEqual({
      events: 0,
      card: 0,
      conversation: false,
      outbox: 0,
      draft: false,
      profile: false,
    });
    expect(await db.meta.get(`file:${HASH}`)).toBeUndefined();
    const after = await dump();
    for (const secret of [ERASED_NAME, ERASED_PHONE, ERASED_TEXT, ERASED_REPLY, ERASED_DRAFT, 'c1 profile'])
      expect(after).not.toContain(secret);
    // The search index is the events' own words: none of c1's are left to find.
    expect(await db.events.where('terms').equals('invoice').count()).toBe(0);
    // The other conversation keeps everything, and the cursor moved past the notice.
    expect(await rowsOf('c2')).toEqual(before);
    expect(await db.events.where('terms').equals('shoes').count()).toBe(2); // message and caption
    expect((await db.cursors.get('events'))?.cursor).toBe(api.log.at(-1)!.cursor);
  });

  it('[29-DV2] records the notice with the conversations whose unsent reply or draft was discarded', async () => {
    const { api, engine } = await deviceWithTwoConversations();
    await db.drafts.delete('c2');
    await db.outbox.where('conversationId').equals('c2').delete();
    api.log.push(notice(['c1', 'c2', 'not-on-this-device']));
    await engine.catchUp();
    const [record] = await openErasureNotices(db);
    expect(record).toMatchObject({
      conversations: ['c1', 'c2', 'not-on-this-device'],
      discarded: ['c1'],
      discardedWriting: true,
      dismissed: false,
    } satisfies Partial<ErasureRecord>);
    expect(await db.conversations.count()).toBe(0);
  });

  it('[29-DV3] a notice delivered again (a repeated page) drops and tells nothing twice', async () => {
    const { api, engine } = await deviceWithTwoConversations();
    const erased = notice(['c1']);
    api.log.push(erased);
    await engine.catchUp();
    await dismissErasureNotice(db, erased.id);
    // The agent writes a new draft in a conversation the notice named; a repeated page leaves it.
    await db.drafts.put({ conversationId: 'c1', text: 'new', updatedAt: T0 });
    await engine.applyPage([erased], erased.cursor);
    expect(await db.drafts.get('c1')).toBeDefined();
    expect(await openErasureNotices(db)).toEqual([]);
    const records = await db.meta.where('key').startsWith(ERASURE_KEY_PREFIX).toArray();
    expect(records.map((row) => (row.value as ErasureRecord).dismissed)).toEqual([true]);
  });

  it('[29-DV4] a failed page drops nothing: the notice comes again with it', async () => {
    const { engine } = await deviceWithTwoConversations();
    const before = await rowsOf('c1');
    const broken = { ...event('conversation-c2', 4, 'LabelAdded', {}), streamId: undefined as never };
    await expect(engine.applyPage([notice(['c1']), broken], 'ep.999')).rejects.toThrow();
    expect(await rowsOf('c1')).toEqual(before);
    expect(await openErasureNotices(db)).toEqual([]);
  });
});

describe('what the agent is told (decision 0029)', () => {
  it('[29-DV8] names a discarded reply, or only changes (a read mark, a label) when nothing written went', async () => {
    const { api, engine } = await deviceWithTwoConversations();
    await db.drafts.delete('c2');
    await db.outbox.where('conversationId').equals('c2').delete();
    await db.outbox.add({
      clientMessageId: 'read-c2',
      conversationId: 'c2',
      sequence: 99,
      command: { type: 'MarkConversationRead', upTo: T0 },
      agentId: 'ana',
      createdAt: T0,
      attempts: 0,
      lastError: null,
      refusal: null,
    });
    api.log.push(notice(['c2']));
    await engine.catchUp();
    const [changes] = await openErasureNotices(db);
    expect(erasureNoticeText(changes!)).toBe(
      'The contact was erased by an admin: their conversation was removed from this device and your unsent changes were discarded.',
    );
    // c1's photo is sent in c3 too: dropping c1 leaves the file that c3's reply still carries.
    const shared = await queueReply(
      db,
      { conversationId: 'c3', platform: 'whatsapp', lastCustomerMessageAt: T0 },
      {
        content: {
          type: 'media',
          media: { kind: 'image', url: attachmentUrl(HASH), mime: 'image/png', size: 1 },
          caption: null,
        },
        tag: null,
        agentId: 'ana',
      },
      { now: T0 + 12, templates: [] },
    );
    expect(shared.ok).toBe(true);
    api.log.push(notice(['c1']));
    await engine.catchUp();
    const [reply] = await openErasureNotices(db);
    expect(erasureNoticeText(reply!)).toMatch(/erased by an admin.*your unsent reply was discarded\.$/);
    expect(await db.meta.get(`file:${HASH}`)).toBeDefined();
    expect(erasureNoticeText({ discarded: [] })).toBe(
      'The contact was erased by an admin: their conversation was removed from this device.',
    );
  });
});

describe('a resync across an erasure (decision 0029)', () => {
  it('[29-DV7] keeps no conversation the server reads as erased, nor the reply and draft queued there, and tells the agent', async () => {
    const { api, engine } = await deviceWithTwoConversations();
    await db.meta.put({ key: 'contact-profile:c3', value: { notes: [{ text: 'c3 profile' }] } });
    api.items = [
      listItem('c1', { id: '[erased]', name: '[erased]', handle: '[erased]' }),
      listItem('c2', { id: 'k2', name: 'Tom Baker', handle: '+44 7700' }),
      // Erased too, with nothing queued or drafted: its cached profile goes all the same.
      listItem('c3', { id: '[erased]', name: '[erased]', handle: '[erased]' }),
    ];
    await engine.resync({ kind: 'resync', reason: 'cursor-archived', cursor: 'ep.900' });
    expect(await rowsOf('c1')).toEqual({
      events: 0,
      card: 0,
      conversation: false,
      outbox: 0,
      draft: false,
      profile: false,
    });
    expect(await rowsOf('c2')).toMatchObject({ conversation: true, outbox: 1, draft: true, profile: true });
    expect(await dump()).not.toContain(ERASED_REPLY);
    expect(await dump()).not.toContain(ERASED_DRAFT);
    expect(await rowsOf('c3')).toMatchObject({ conversation: false, profile: false });
    expect((await openErasureNotices(db)).map((record) => record.discarded)).toEqual([['c1']]);
    expect((await db.cursors.get('events'))?.cursor).toBe('ep.900');
  });
});

describe('the outbox and an erasure notice (decision 0029)', () => {
  function flusherFor(send: CommandTransport, holdWhile?: () => boolean) {
    return new OutboxFlusher({
      db,
      send,
      classify: () => ({ kind: 'retry', message: 'offline' }),
      locks: memoryLocks(),
      lockName: `flush:${db.name}`,
      clock: () => T0,
      newClientId: () => 'client-1',
      ...(holdWhile ? { holdWhile } : {}),
    });
  }

  it('[29-DV5] sends nothing while sync catches up, so the notice it brings drops the reply first', async () => {
    await deviceWithTwoConversations();
    const server = new FakeReplyServer();
    let catchingUp = true;
    const flusher = flusherFor(server.send, () => catchingUp);
    await flusher.flush({ resetBackoff: true });
    expect(server.applied).toEqual([]);
    await db.transaction('rw', erasureTables(db), () => dropErased(db, noticeOf(notice(['c1']))));
    catchingUp = false;
    await flusher.flush({ resetBackoff: true });
    expect(server.applied.map((reply) => reply.text)).toEqual(['we have your size']);
    flusher.stop();
  });

  it('[29-DV6] an answer for a reply the notice dropped while its request was out writes no provisional event', async () => {
    await deviceWithTwoConversations();
    const server = new FakeReplyServer();
    const flusher = flusherFor(async (batch) => {
      await db.transaction('rw', erasureTables(db), () => dropErased(db, noticeOf(notice(['c1']))));
      return server.send(batch);
    });
    await flusher.flush();
    expect(await rowsOf('c1')).toMatchObject({ events: 0, outbox: 0 });
    expect(await dump()).not.toContain(ERASED_REPLY);
    // The other conversation's reply is acknowledged as usual.
    expect(await db.events.where('terms').equals('size').count()).toBeGreaterThan(0);
    flusher.stop();
  });
});
