import {
  conversation as decider,
  conversationFromSummary,
  type ConversationEvent,
  type JsonObject,
} from '@parley/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeReplyServer } from '../test/fake-server';
import { ParleyDb, type EventRow } from './db/schema';
import { decideLocally, localConversation } from './decide';
import { OutboxFlusher } from './outbox/flusher';
import { memoryLocks } from './outbox/locks';
import { queueReply } from './outbox/queue';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;
let dbs: ParleyDb[] = [];

function openDb(): ParleyDb {
  const db = new ParleyDb(`decide-${Math.random()}`);
  dbs.push(db);
  return db;
}

afterEach(async () => {
  for (const db of dbs) {
    db.close();
    await db.delete();
  }
  dbs = [];
});

const contact = { id: 'k1', name: 'Maria Lopez', handle: '+34 600' };

/** The server's log of conversation c1 as sync stores it (tests may play the server). */
function stored(version: number, type: string, data: JsonObject): EventRow {
  return {
    streamId: 'conversation-c1',
    version,
    conversationId: 'c1',
    id: `e${version}`,
    type,
    data,
    metadata: {},
    recordedAt: NOW,
    cursor: `e.${version}`,
  };
}

/** A WhatsApp conversation whose customer last wrote at `sentAt`. */
const log = (sentAt: number): EventRow[] => [
  stored(1, 'ConversationStarted', {
    conversationId: 'c1',
    inboxId: 'support',
    platform: 'whatsapp',
    contact,
    at: sentAt,
  }),
  stored(2, 'CycleStarted', { cycle: 1, at: sentAt }),
  stored(3, 'InboundMessageReceived', {
    externalMessageId: 'x1',
    contact,
    content: { type: 'text', text: 'hello?' },
    sentAt,
  }),
];

const text = (value: string) => ({
  content: { type: 'text' as const, text: value },
  tag: null,
  agentId: 'ana',
});

function flusherFor(db: ParleyDb, server: FakeReplyServer) {
  return new OutboxFlusher({
    db,
    send: server.send,
    classify: (error) => ({ kind: 'retry', message: String(error) }),
    locks: memoryLocks(),
    lockName: `flush:${db.name}`,
    clock: () => NOW,
    random: () => 0.5,
    newClientId: () => 'client-2',
  });
}

describe('the domain decides on this device (decision 0019)', () => {
  it('[14.2] a queued reply carries the events the domain decided, with the time and id passed in', async () => {
    const db = openDb();
    await db.events.bulkPut(log(NOW - HOUR));
    const result = await queueReply(
      db,
      { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: NOW - HOUR },
      text('on it'),
      { now: NOW, templates: [] },
    );
    if (!result.ok) throw new Error(result.message);
    const { row } = result;
    const expected: ConversationEvent[] = [
      {
        type: 'ReplyQueued',
        data: {
          clientMessageId: row.clientMessageId,
          agentId: 'ana',
          content: { type: 'text', text: 'on it' },
          tag: null,
          queuedAt: NOW,
        },
      },
    ];
    expect(row.decided).toEqual(expected);
    // The same command on the same state decides the same events: the server will agree.
    const state = localConversation(await db.events.toArray());
    const command = {
      type: 'QueueReply' as const,
      data: { ...text('on it'), clientMessageId: row.clientMessageId, now: NOW, templates: [] },
    };
    expect(decider.decide(command, state)).toEqual(expected);
    expect(decideLocally(state, command)).toMatchObject({ ok: true, events: expected });
  });

  it('[14.2] decides on the stored conversation: its window, not a stale list row', async () => {
    const db = openDb();
    await db.events.bulkPut(log(NOW - 25 * HOUR));
    const result = await queueReply(
      db,
      // The list row says the customer wrote an hour ago; the conversation's events say otherwise.
      { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: NOW - HOUR },
      text('late'),
      { now: NOW, templates: [] },
    );
    expect(result).toMatchObject({ ok: false, code: 'WINDOW_CLOSED', rule: 'WA2' });
    expect(await db.outbox.count()).toBe(0);
  });

  it('[14.2] a refusal is the domain rule with its message and next step; nothing is queued', () => {
    const state = conversationFromSummary({
      conversationId: 'c1',
      platform: 'whatsapp',
      lastCustomerMessageAt: NOW - 25 * HOUR,
    });
    const decision = decideLocally(state, {
      type: 'QueueReply',
      data: { ...text('late'), clientMessageId: 'm1', now: NOW, templates: [] },
    });
    expect(decision).toEqual({
      ok: false,
      code: 'WINDOW_CLOSED',
      rule: 'WA2',
      message: expect.stringContaining('window is closed') as string,
      hint: 'send an approved template',
    });
    expect(decideLocally(null, { type: 'AddLabel', data: { label: 'vip', at: NOW } })).toMatchObject({
      ok: false,
      code: 'CONVERSATION_NOT_FOUND',
      rule: 'CV1',
    });
  });

  it('[14.2] evolves the decided events into the next local state', () => {
    const state = localConversation(log(NOW - HOUR));
    const decision = decideLocally(state, { type: 'AddLabel', data: { label: 'vip', at: NOW } });
    expect(decision).toMatchObject({ ok: true, events: [{ type: 'LabelAdded' }] });
    expect(decision.ok && decision.state?.labels).toEqual(['vip']);
  });

  it('[14.2] leaves out stored events of a type this build does not know', () => {
    const state = localConversation([...log(NOW - HOUR), stored(4, 'SomethingNewer', { at: NOW })]);
    expect(state?.customerMessages).toBe(1);
  });

  it('[14.2] the provisional event after the acknowledgement is the decided one, at the server version', async () => {
    const db = openDb();
    await db.events.bulkPut(log(NOW - HOUR));
    const result = await queueReply(
      db,
      { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: NOW - HOUR },
      text('on it'),
      { now: NOW, templates: [] },
    );
    if (!result.ok) throw new Error(result.message);
    await flusherFor(db, new FakeReplyServer()).flush();
    const provisional = (await db.events.toArray()).filter((event) => event.provisional);
    expect(provisional).toHaveLength(1);
    expect(provisional[0]).toMatchObject({ version: 4, ...result.row.decided![0] });
  });

  it('[14.2] a reply queued before 0019 (no decided events) is still delivered once, without a provisional event', async () => {
    const db = openDb();
    const result = await queueReply(
      db,
      { conversationId: 'c1', platform: 'whatsapp', lastCustomerMessageAt: NOW - HOUR },
      text('old'),
      { now: NOW, templates: [] },
    );
    if (!result.ok) throw new Error(result.message);
    const { decided: _decided, ...legacy } = result.row;
    await db.outbox.put(legacy);
    const server = new FakeReplyServer();
    await flusherFor(db, server).flush();
    expect(server.applied.map((reply) => reply.text)).toEqual(['old']);
    expect(await db.outbox.count()).toBe(0);
    expect(await db.events.count()).toBe(0);
  });
});
