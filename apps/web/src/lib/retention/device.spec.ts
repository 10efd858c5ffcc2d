import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyDb, withKeys, type ConversationRow, type EventRow, type OutboxRow } from '../db/schema';
import { ERASED } from './redact';
import { redactPastRetention, storeRetention, storedRetention } from './device';

const opened: ParleyDb[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) {
    db.close();
    await Dexie.delete(db.name);
  }
});

function openDb(): ParleyDb {
  const db = new ParleyDb(`retention-${opened.length}-${Math.random()}`);
  opened.push(db);
  return db;
}

function event(version: number, type: string, data: Record<string, unknown>, recordedAt: number): EventRow {
  return {
    streamId: 'conversation-c1',
    version,
    conversationId: 'c1',
    id: `e${version}`,
    type,
    data,
    metadata: {},
    recordedAt,
    cursor: String(version),
  };
}

const NOW = Date.parse('2026-12-07T12:00:00Z');
const OLD = Date.parse('2026-10-20T10:00:00Z');
const RECENT = Date.parse('2026-12-01T10:00:00Z');

const conversation = (conversationId: string, previewAt: number): ConversationRow =>
  withKeys({
    conversationId,
    inboxId: 'support',
    platform: 'whatsapp',
    contact: { id: `k-${conversationId}`, name: 'Maria Lopez', handle: '+34 600' },
    status: 'open',
    snoozedUntil: null,
    assigneeId: 'ana',
    labels: [],
    priority: 'normal',
    cycle: 1,
    unreadCount: 0,
    lastMessage: { preview: 'zanzibar trip', at: previewAt, from: 'customer' },
    lastCustomerMessageAt: previewAt,
    windowClosesAt: null,
    lastActivityAt: previewAt,
    version: 3,
  } as unknown as ConversationRow);

const outboxRow: OutboxRow = {
  clientMessageId: 'm1',
  conversationId: 'c1',
  sequence: 1,
  command: {
    type: 'QueueReply',
    clientMessageId: 'm1',
    content: { type: 'text', text: 'zanzibar draft' },
    tag: null,
  },
  agentId: 'ana',
  createdAt: OLD,
  attempts: 0,
  lastError: null,
  refusal: null,
};

async function seed(db: ParleyDb) {
  await db.events.bulkPut([
    event(1, 'ConversationStarted', { contact: { id: 'k-c1', name: 'Maria Lopez', handle: '+34 600' } }, OLD),
    event(2, 'InboundMessageReceived', { content: { type: 'text', text: 'zanzibar trip' } }, OLD),
    event(3, 'NoteAdded', { noteId: 'n1', text: 'zanzibar visa', agentId: 'ana' }, OLD),
    event(4, 'InboundMessageReceived', { content: { type: 'text', text: 'zanzibar again' } }, RECENT),
  ]);
  await db.conversations.bulkPut([conversation('c1', RECENT), conversation('c2', OLD)]);
  await db.outbox.put(outboxRow);
  await db.drafts.put({ conversationId: 'c1', text: 'zanzibar note', updatedAt: OLD });
  await db.meta.put({ key: 'templates', value: [] });
  await db.cursors.put({ name: 'events', cursor: '4', updatedAt: OLD });
}

const snapshot = async (db: ParleyDb) => ({
  outbox: await db.outbox.toArray(),
  drafts: await db.drafts.toArray(),
  meta: await db.meta.toArray(),
  cursors: await db.cursors.toArray(),
});

describe('redactPastRetention (the device pass)', () => {
  it('redacts old message and note content in place, keeps every event and recent content, and leaves the outbox, drafts, meta and cursor alone', async () => {
    const db = openDb();
    await seed(db);
    const before = await snapshot(db);

    expect(await redactPastRetention(db, 30, NOW)).toEqual({ events: 2, conversations: 1, media: [] });

    const events = await db.events.orderBy('[streamId+version]').toArray();
    expect(events.map((row) => [row.version, row.type, row.recordedAt])).toEqual([
      [1, 'ConversationStarted', OLD],
      [2, 'InboundMessageReceived', OLD],
      [3, 'NoteAdded', OLD],
      [4, 'InboundMessageReceived', RECENT],
    ]);
    expect(events[0]?.data).toEqual({ contact: { id: 'k-c1', name: 'Maria Lopez', handle: '+34 600' } });
    expect(events[1]?.data).toEqual({ content: { type: 'text', text: ERASED } });
    expect(events[2]?.data).toEqual({ noteId: 'n1', text: ERASED, agentId: 'ana' });
    expect(events[3]?.data).toEqual({ content: { type: 'text', text: 'zanzibar again' } });
    // Offline search finds only the recent message.
    const found = await db.events.where('terms').equals('zanzibar').toArray();
    expect(found.map((row) => row.version)).toEqual([4]);
    expect(await db.events.where('terms').equals('erased').count()).toBe(0);

    expect((await db.conversations.get('c1'))?.lastMessage?.preview).toBe('zanzibar trip');
    expect((await db.conversations.get('c2'))?.lastMessage?.preview).toBe(ERASED);
    expect((await db.conversations.get('c2'))?.contact.name).toBe('Maria Lopez');
    expect(await snapshot(db)).toEqual(before);
  });

  it('is idempotent, and does nothing when content is kept for ever', async () => {
    const db = openDb();
    await seed(db);
    expect(await redactPastRetention(db, null, NOW)).toEqual({ events: 0, conversations: 0, media: [] });
    expect((await db.events.get(['conversation-c1', 2]))?.data).toEqual({
      content: { type: 'text', text: 'zanzibar trip' },
    });
    await redactPastRetention(db, 30, NOW);
    const once = await db.events.toArray();
    expect(await redactPastRetention(db, 30, NOW)).toEqual({ events: 0, conversations: 0, media: [] });
    expect(await db.events.toArray()).toEqual(once);
  });

  it('names the files only redacted messages carried, for the cache to drop; a file a recent message or a queued reply still carries stays', async () => {
    const db = openDb();
    const image = (hash: string, caption: string) => ({
      content: {
        type: 'media',
        media: { kind: 'image', url: `/api/attachments/${hash}`, mime: 'image/png', size: 3 },
        caption,
      },
    });
    await db.events.bulkPut([
      event(1, 'InboundMessageReceived', image('aaa', 'my passport'), OLD),
      event(2, 'ReplyQueued', image('bbb', 'the form'), OLD),
      event(3, 'ReplyQueued', image('bbb', 'the form again'), RECENT),
      event(4, 'InboundMessageReceived', image('ccc', 'a receipt'), OLD),
    ]);
    await db.outbox.put({
      ...outboxRow,
      command: {
        type: 'QueueReply',
        clientMessageId: 'm1',
        content: image('ccc', 'resent').content,
        tag: null,
      },
    } as OutboxRow);
    const outboxBefore = await db.outbox.toArray();

    const pass = await redactPastRetention(db, 30, NOW);

    expect(pass).toEqual({ events: 3, conversations: 0, media: ['/api/attachments/aaa'] });
    expect((await db.events.get(['conversation-c1', 1]))?.data).toEqual({
      content: { type: 'text', text: ERASED },
    });
    expect((await db.events.get(['conversation-c1', 3]))?.data).toEqual(image('bbb', 'the form again'));
    expect(await db.outbox.toArray()).toEqual(outboxBefore);
    expect((await redactPastRetention(db, 30, NOW)).media).toEqual([]);
  });

  it('keeps the retention the server last said, for the passes made offline', async () => {
    const db = openDb();
    expect(await storedRetention(db)).toBeNull();
    await storeRetention(db, 90);
    expect(await storedRetention(db)).toBe(90);
    await storeRetention(db, null);
    expect(await storedRetention(db)).toBeNull();
  });
});
