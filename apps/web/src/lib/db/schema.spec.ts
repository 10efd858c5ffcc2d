import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyDb, SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_VERSION, databaseName } from './schema';
import { queueCommand } from '../outbox/queue';

const names: string[] = [];
afterEach(async () => {
  for (const name of names.splice(0)) await Dexie.delete(name);
});

/** A database as version 1 of the app left it. */
async function createV1(name: string): Promise<void> {
  names.push(name);
  const v1 = new Dexie(name);
  v1.version(1).stores(SCHEMA_V1);
  await v1.open();
  await v1.table('conversations').put({
    conversationId: 'c1',
    inboxId: 'support',
    platform: 'whatsapp',
    contact: { id: 'k1', name: 'Maria Lopez', handle: '+34 600' },
    status: 'open',
    assigneeId: null,
    lastActivityAt: 10,
    version: 3,
  });
  await v1.table('conversations').put({
    conversationId: 'c2',
    contact: { id: 'k2', name: 'Tom Baker', handle: '+44 77' },
    status: 'pending',
    assigneeId: 'ana',
    lastActivityAt: 20,
    version: 4,
  });
  await v1.table('outbox').put({
    clientMessageId: 'm1',
    conversationId: 'c1',
    sequence: 7,
    content: { type: 'text', text: 'queued under v1' },
    tag: null,
    agentId: 'ana',
    createdAt: 5,
  });
  await v1.table('meta').put({ key: 'outbox', value: { clientId: 'dev-1', nextSequence: 8 } });
  v1.close();
}

describe('the local schema', () => {
  it('is at the newest version', async () => {
    const db = new ParleyDb('schema-current');
    names.push(db.name);
    await db.open();
    expect(db.verno).toBe(SCHEMA_VERSION);
    expect(db.tables.map((table) => table.name).sort()).toEqual(
      ['conversations', 'cursors', 'drafts', 'events', 'meta', 'outbox'].sort(),
    );
    db.close();
  });

  it('upgrades v1: keeps queued replies and their numbering, adds search and assignee keys', async () => {
    await createV1('schema-upgrade');
    const db = new ParleyDb('schema-upgrade');
    await db.open();
    expect(await db.outbox.get('m1')).toMatchObject({
      sequence: 7,
      attempts: 0,
      lastError: null,
      refusal: null,
      command: {
        type: 'QueueReply',
        clientMessageId: 'm1',
        content: { type: 'text', text: 'queued under v1' },
        tag: null,
      },
    });
    expect((await db.meta.get('outbox'))?.value).toEqual({ clientId: 'dev-1', nextSequence: 8 });
    expect(await db.conversations.get('c1')).toMatchObject({
      searchText: 'maria lopez +34 600',
      assigneeKey: '',
      hydrated: true,
    });
    // The v2 indexes answer the list's queries.
    const unassigned = await db.conversations
      .where('[assigneeKey+lastActivityAt]')
      .between(['', Dexie.minKey], ['', Dexie.maxKey])
      .primaryKeys();
    expect(unassigned).toEqual(['c1']);
    const pending = await db.conversations
      .where('[status+lastActivityAt]')
      .between(['pending', Dexie.minKey], ['pending', Dexie.maxKey])
      .primaryKeys();
    expect(pending).toEqual(['c2']);
    await db.drafts.put({ conversationId: 'c1', text: 'hello', updatedAt: 1 });
    expect(await db.drafts.count()).toBe(1);
    db.close();
  });

  it('upgrades v2 (#14): queued and refused replies become QueueReply commands, nothing lost, numbering kept', async () => {
    const name = 'schema-upgrade-v3';
    names.push(name);
    const v2 = new Dexie(name);
    v2.version(1).stores(SCHEMA_V1);
    v2.version(2).stores(SCHEMA_V2);
    await v2.open();
    const reply = (id: string, extra: object) => ({
      clientMessageId: id,
      conversationId: 'c1',
      content: { type: 'text', text: `reply ${id}` },
      tag: id === 'm2' ? 'HUMAN_AGENT' : null,
      agentId: 'ana',
      createdAt: 5,
      attempts: 1,
      lastError: 'no connection',
      refusal: null,
      ...extra,
    });
    await v2.table('outbox').bulkPut([
      reply('m1', { sequence: 3 }),
      reply('m2', { sequence: 4 }),
      reply('m0', {
        refusedSequence: 2,
        refusal: { code: 'WINDOW_CLOSED', rule: 'WA2', message: 'closed', hint: null },
      }),
    ]);
    await v2.table('meta').put({ key: 'outbox', value: { clientId: 'dev-1', nextSequence: 5 } });
    v2.close();

    const db = new ParleyDb(name);
    await db.open();
    expect(db.verno).toBe(SCHEMA_VERSION);
    const rows = await db.outbox.toArray();
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.command).toEqual({
        type: 'QueueReply',
        clientMessageId: row.clientMessageId,
        content: { type: 'text', text: `reply ${row.clientMessageId}` },
        tag: row.clientMessageId === 'm2' ? 'HUMAN_AGENT' : null,
      });
      expect(row).not.toHaveProperty('content');
    }
    expect((await db.outbox.orderBy('sequence').toArray()).map((row) => row.clientMessageId)).toEqual([
      'm1',
      'm2',
    ]);
    expect(await db.outbox.get('m1')).toMatchObject({ attempts: 1, lastError: 'no connection' });
    expect((await db.outbox.get('m0'))?.refusal?.code).toBe('WINDOW_CLOSED');
    // The next command of any type continues the replies' numbering.
    const label = await queueCommand(
      db,
      { conversationId: 'c9', platform: 'telegram', lastCustomerMessageAt: 1 },
      { type: 'AddLabel', label: 'vip' },
      { agentId: 'ana', now: 10, templates: [] },
    );
    expect(label).toMatchObject({ ok: true, row: { sequence: 5 } });
    db.close();
  });

  it('upgrades v3 (#15): stored messages, replies and notes get their search words; new writes get them too', async () => {
    const name = 'schema-upgrade-v4';
    names.push(name);
    const v3 = new Dexie(name);
    v3.version(1).stores(SCHEMA_V1);
    v3.version(2).stores(SCHEMA_V2);
    v3.version(3).stores(SCHEMA_V3);
    await v3.open();
    const event = (version: number, type: string, data: Record<string, unknown>) => ({
      streamId: 'conversation-c1',
      version,
      conversationId: 'c1',
      id: `e${version}`,
      type,
      data,
      metadata: {},
      recordedAt: version,
      cursor: `k${version}`,
    });
    await v3
      .table('events')
      .bulkPut([
        event(1, 'InboundMessageReceived', { content: { type: 'text', text: 'My PARCEL is late' } }),
        event(2, 'NoteAdded', { text: 'parcel lost by the courier' }),
        event(3, 'LabelAdded', { label: 'parcel' }),
      ]);
    v3.close();

    const db = new ParleyDb(name);
    await db.open();
    expect(db.verno).toBe(SCHEMA_VERSION);
    const found = await db.events.where('terms').startsWith('parc').distinct().toArray();
    expect(found.map((row) => row.version).sort()).toEqual([1, 2]);
    expect((await db.events.get(['conversation-c1', 1]))?.terms).toEqual(['my', 'parcel', 'is', 'late']);
    await db.events.bulkPut([event(4, 'ReplyQueued', { content: { type: 'text', text: 'Courier called' } })]);
    expect(
      (await db.events.where('terms').equals('courier').toArray()).map((row) => row.version).sort(),
    ).toEqual([2, 4]);
    db.close();
  });

  it('names one database per tenant and agent', () => {
    expect(databaseName('demo', 'ana')).toBe('parley:demo:ana');
  });
});
