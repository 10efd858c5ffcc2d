import type { JsonObject } from '@parley/domain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyDb } from './db/schema';
import { SyncEngine, type SyncApi, type SyncEvent } from './sync/engine';
import { buildTimeline } from './timeline';

const T0 = 1_800_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const contact = { id: 'k1', name: 'Maria Lopez', handle: '+34 600' };
/** The order one contact's ten messages (sent T0 + 1 min ... T0 + 10 min) reached the server. */
const ARRIVAL = [7, 2, 10, 1, 9, 4, 3, 6, 8, 5];

let db: ParleyDb | undefined;
afterEach(async () => {
  db?.close();
  await db?.delete();
  db = undefined;
});

let position = 0;
function event(version: number, type: string, data: JsonObject): SyncEvent {
  position += 1;
  return {
    id: `e${position}`,
    streamId: 'conversation-c1',
    version,
    type,
    data,
    metadata: {},
    recordedAt: T0 + 20 * MINUTE + position,
    cursor: `ep.${position}`,
  };
}

/** The conversation's log as the server holds it: the messages in the order they arrived. */
function shuffledLog(): SyncEvent[] {
  return [
    event(1, 'ConversationStarted', {
      conversationId: 'c1',
      inboxId: 'support',
      platform: 'whatsapp',
      contact,
      at: T0 + 7 * MINUTE,
    }),
    event(2, 'CycleStarted', { cycle: 1, at: T0 + 7 * MINUTE }),
    ...ARRIVAL.map((n, i) =>
      event(3 + i, 'InboundMessageReceived', {
        externalMessageId: `wamid.${n}`,
        contact,
        content: { type: 'text', text: `message ${n}` },
        sentAt: T0 + n * MINUTE,
      }),
    ),
  ];
}

const noApi: SyncApi = {
  catchUp: () => Promise.reject(new Error('not in this test')),
  live: () => ({ unsubscribe: vi.fn() }),
  list: () => Promise.resolve({ items: [], nextCursor: null }),
  conversationEvents: () => Promise.resolve([]),
};

/** Reads the conversation's events as ConversationView does. */
const storedEvents = (local: ParleyDb) =>
  local.events.where('[conversationId+version]').between(['c1', 0], ['c1', Infinity]).toArray();

describe('the PWA timeline of messages that arrived out of order', () => {
  it('[S5] shows them in platform timestamp order, while Dexie keeps the log in arrival order', async () => {
    const local = (db = new ParleyDb(`timeline-${Math.random()}`));
    const engine = new SyncEngine({ db: local, api: noApi, onCaughtUp: vi.fn(), clock: () => T0 });
    const log = shuffledLog();
    await engine.applyPage(log, log.at(-1)!.cursor);

    const events = await storedEvents(local);
    expect(
      events.filter((e) => e.type === 'InboundMessageReceived').map((e) => e.data.externalMessageId),
    ).toEqual(ARRIVAL.map((n) => `wamid.${n}`));
    const { items } = buildTimeline(events, [], []);
    expect(items.map((item) => ('text' in item ? item.text : item.kind))).toEqual(
      Array.from({ length: 10 }, (_, i) => `message ${i + 1}`),
    );
    expect(items.map((item) => item.at)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (i + 1) * MINUTE));
    // The inbox list's preview is the latest by platform time, the same message the timeline ends with.
    expect((await local.conversations.get('c1'))?.lastMessage).toEqual({
      preview: 'message 10',
      at: T0 + 10 * MINUTE,
      from: 'customer',
    });
  });

  it('[S5] places a reply at its queue time among late messages, and this device’s unsent replies last', () => {
    const log = shuffledLog();
    const reply = event(13, 'ReplyQueued', {
      clientMessageId: 'r1',
      agentId: 'ana',
      content: { type: 'text', text: 'on it' },
      tag: null,
      queuedAt: T0 + 5 * MINUTE + 30_000,
    });
    const outbox = {
      clientMessageId: 'r2',
      conversationId: 'c1',
      sequence: 2,
      command: {
        type: 'QueueReply' as const,
        clientMessageId: 'r2',
        content: { type: 'text' as const, text: 'still here' },
        tag: null,
      },
      agentId: 'ana',
      createdAt: T0,
      attempts: 0,
      lastError: null,
      refusal: null,
    };
    const { items } = buildTimeline(
      [...log, reply].map((e) => ({ ...e, conversationId: 'c1' })),
      [outbox],
      [],
    );
    expect(items.map((item) => ('text' in item ? item.text : item.kind))).toEqual([
      'message 1',
      'message 2',
      'message 3',
      'message 4',
      'message 5',
      'on it',
      'message 6',
      'message 7',
      'message 8',
      'message 9',
      'message 10',
      'still here',
    ]);
  });

  it('[AC1] puts activity lines from the log and the card among the messages by time, naming the agent', () => {
    const log = shuffledLog().map((e) => ({ ...e, conversationId: 'c1' }));
    const resolved = {
      ...event(13, 'StatusChanged', {
        status: { kind: 'resolved' },
        reason: 'agent',
        at: T0 + 4 * MINUTE + 30_000,
      }),
      metadata: { actor: { kind: 'agent', id: 'ana' } },
      conversationId: 'c1',
    };
    const moved = {
      ...event(2, 'CardMoved', {
        workflowId: 'support',
        fromStageId: 'new',
        toStageId: 'waiting',
        orderKey: 'a0',
        entryActions: [],
        by: 'ben',
        at: T0 + 2 * MINUTE + 30_000,
      }),
      streamId: 'card-c1',
      metadata: { actor: { kind: 'agent', id: 'ben' } },
      conversationId: '',
    };
    const { items } = buildTimeline([...log, resolved], [], [], {
      now: T0 + HOUR,
      templates: [],
      cardEvents: [moved],
    });
    const shown = items.map((item) =>
      item.kind === 'activity'
        ? `${item.activity.kind}:${'by' in item.activity ? item.activity.by : ''}`
        : item.text,
    );
    expect(shown.slice(0, 6)).toEqual([
      'message 1',
      'message 2',
      'stage:ben',
      'message 3',
      'message 4',
      'resolved:ana',
    ]);
  });
});
