import { DomainError, streamId, tenantId } from '@parley/domain';
import type { Checkpoint, Decider, RecordedEvent, TenantId } from '@parley/domain';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createGrainRuntime, createMemorySnapshotStore, defineGrain } from '../actors';
import { createLocalBroadcast } from '../broadcast';
import { START } from '../store/checkpoint';
import { createMemoryEventStore } from '../store/memory';
import type { EventStore } from '../store/types';
import {
  REPLY_WINDOW_MS,
  agentLoad,
  agentLoadProjection,
  applyConversationEvent,
  createProjectionRunner,
  inboxListProjection,
  isConversationEvent,
  listInbox,
} from '.';
import type { ConversationEvent, ConversationSummary, Projection } from '.';

const acme = tenantId('acme');
const globex = tenantId('globex');
const sentinel = tenantId('sentinel');

/** A toy conversation aggregate that emits the events the projections read. */
type Command =
  | { readonly type: 'Start'; readonly inboxId: string; readonly at: number }
  | { readonly type: 'Receive'; readonly text: string; readonly at: number }
  | { readonly type: 'Reply'; readonly text: string; readonly at: number }
  | { readonly type: 'Read'; readonly at: number }
  | { readonly type: 'Assign'; readonly agent: string; readonly at: number }
  | { readonly type: 'Unassign'; readonly at: number }
  | { readonly type: 'Close'; readonly at: number }
  | { readonly type: 'Reopen'; readonly at: number };

type State = { readonly started: boolean; readonly open: boolean; readonly messages: number };

const conversationDecider: Decider<Command, State, ConversationEvent> = {
  initialState: () => ({ started: false, open: false, messages: 0 }),
  decide(command, state) {
    if (command.type === 'Start') {
      if (state.started) throw new DomainError('ALREADY_STARTED', 'started already');
      return [{ type: 'ConversationStarted', data: { inboxId: command.inboxId, at: command.at } }];
    }
    if (!state.started) throw new DomainError('NOT_STARTED', 'start it first');
    const at = command.at;
    switch (command.type) {
      case 'Receive':
        return [
          { type: 'MessageReceived', data: { messageId: `m${state.messages + 1}`, text: command.text, at } },
        ];
      case 'Reply':
        if (!state.open) throw new DomainError('CLOSED', 'reopen it first');
        return [{ type: 'ReplySent', data: { messageId: `m${state.messages + 1}`, text: command.text, at } }];
      case 'Read':
        return [{ type: 'ConversationRead', data: { at } }];
      case 'Assign':
        return [{ type: 'ConversationAssigned', data: { assigneeId: command.agent, at } }];
      case 'Unassign':
        return [{ type: 'ConversationUnassigned', data: { at } }];
      case 'Close':
        return state.open ? [{ type: 'ConversationClosed', data: { at } }] : [];
      case 'Reopen':
        return state.open ? [] : [{ type: 'ConversationReopened', data: { at } }];
      default:
        return unreachable(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ConversationStarted':
        return { ...state, started: true, open: true };
      case 'MessageReceived':
      case 'ReplySent':
        return { ...state, messages: state.messages + 1 };
      case 'ConversationClosed':
        return { ...state, open: false };
      case 'ConversationReopened':
        return { ...state, open: true };
      case 'ConversationRead':
      case 'ConversationAssigned':
      case 'ConversationUnassigned':
        return state;
      default:
        return unreachable(event);
    }
  },
};

function unreachable(value: never): never {
  throw new TypeError(`unexpected ${JSON.stringify(value)}`);
}

const conversations = defineGrain({
  category: 'conversation',
  decider: conversationDecider,
  snapshotEvery: 4,
  toTopics: (event) => [{ kind: 'conversation', tenantId: event.tenantId, id: event.streamId.slice(13) }],
});

let position = 0;
function recorded(tenant: TenantId, id: string, version: number, event: ConversationEvent): RecordedEvent {
  position += 1;
  return {
    ...event,
    tenantId: tenant,
    streamId: streamId(`conversation-${id}`),
    version,
    eventId: `e${position}`,
    metadata: {},
    recordedAt: 0,
    checkpoint: `0:${position}` as Checkpoint,
  };
}

/** Folds events into one summary, as both projections do. */
function summarise(events: readonly RecordedEvent[]): ConversationSummary | undefined {
  let summary: ConversationSummary | undefined;
  for (const event of events)
    if (isConversationEvent(event)) summary = applyConversationEvent(summary, event);
  return summary;
}

describe('applyConversationEvent', () => {
  const started = recorded(acme, '1', 1, {
    type: 'ConversationStarted',
    data: { inboxId: 'sales', at: 100 },
  });

  it('counts customer messages as unread until an agent reads or answers', () => {
    const received = (version: number, at: number) =>
      recorded(acme, '1', version, {
        type: 'MessageReceived',
        data: { messageId: `m${version}`, text: 'hi', at },
      });
    expect(summarise([started, received(2, 200), received(3, 300)])).toMatchObject({
      unreadCount: 2,
      lastMessage: { preview: 'hi', at: 300, from: 'customer' },
      windowClosesAt: 300 + REPLY_WINDOW_MS,
      lastActivityAt: 300,
      version: 3,
    });
    const read = recorded(acme, '1', 4, { type: 'ConversationRead', data: { at: 400 } });
    expect(summarise([started, received(2, 200), read])?.unreadCount).toBe(0);
    const reply = recorded(acme, '1', 4, {
      type: 'ReplySent',
      data: { messageId: 'r', text: 'hello', at: 400 },
    });
    expect(summarise([started, received(2, 200), reply])).toMatchObject({
      unreadCount: 0,
      lastMessage: { preview: 'hello', from: 'agent' },
      // Only the customer's message opens the window.
      windowClosesAt: 200 + REPLY_WINDOW_MS,
    });
  });

  it('keeps a short, single-line preview', () => {
    const long = recorded(acme, '1', 2, {
      type: 'MessageReceived',
      data: { messageId: 'm', text: `line one\n\n  ${'x'.repeat(300)}`, at: 200 },
    });
    const preview = summarise([started, long])!.lastMessage!.preview;
    expect(preview).toHaveLength(140);
    expect(preview.startsWith('line one x')).toBe(true);
    expect(preview.endsWith('…')).toBe(true);
  });

  it('tracks status and assignee, and ignores a conversation that never started', () => {
    expect(
      summarise([
        started,
        recorded(acme, '1', 2, { type: 'ConversationAssigned', data: { assigneeId: 'ana', at: 200 } }),
        recorded(acme, '1', 3, { type: 'ConversationClosed', data: { at: 300 } }),
      ]),
    ).toMatchObject({
      status: 'closed',
      assigneeId: 'ana',
      conversationId: '1',
      inboxId: 'sales',
      tenantId: 'acme',
    });
    expect(
      summarise([recorded(acme, '2', 1, { type: 'ConversationClosed', data: { at: 1 } })]),
    ).toBeUndefined();
  });

  it('knows conversation events only', () => {
    const ledger = { ...started, streamId: streamId('ledger-1') };
    const unknown = { ...started, type: 'ConversationArchived' };
    expect(isConversationEvent(started)).toBe(true);
    expect(isConversationEvent(ledger)).toBe(false);
    expect(isConversationEvent(unknown)).toBe(false);
  });
});

/** Applies events straight to a projection's state, for the read-model tests. */
function project<State>(projection: Projection<State>, events: readonly RecordedEvent[]): State {
  const state = projection.initialState();
  for (const event of events) projection.apply(state, event);
  return state;
}

describe('inbox list and agent load', () => {
  const events = [
    recorded(acme, '1', 1, { type: 'ConversationStarted', data: { inboxId: 'sales', at: 10 } }),
    recorded(acme, '2', 1, { type: 'ConversationStarted', data: { inboxId: 'sales', at: 20 } }),
    recorded(acme, '3', 1, { type: 'ConversationStarted', data: { inboxId: 'support', at: 30 } }),
    recorded(globex, '1', 1, { type: 'ConversationStarted', data: { inboxId: 'sales', at: 40 } }),
    recorded(acme, '1', 2, { type: 'MessageReceived', data: { messageId: 'm', text: 'late', at: 50 } }),
    recorded(acme, '1', 3, { type: 'ConversationAssigned', data: { assigneeId: 'ana', at: 60 } }),
    recorded(acme, '2', 2, { type: 'ConversationAssigned', data: { assigneeId: 'ana', at: 61 } }),
    recorded(acme, '3', 2, { type: 'ConversationAssigned', data: { assigneeId: 'bo', at: 62 } }),
    recorded(globex, '1', 2, { type: 'ConversationAssigned', data: { assigneeId: 'ana', at: 63 } }),
    recorded(acme, '2', 3, { type: 'ConversationClosed', data: { at: 70 } }),
    recorded(acme, '3', 3, { type: 'ConversationAssigned', data: { assigneeId: 'ana', at: 71 } }),
  ];

  it('lists an inbox of a tenant, most recently active first', () => {
    const state = project(inboxListProjection, events);
    expect(listInbox(state, acme, 'sales').map((row) => [row.conversationId, row.lastActivityAt])).toEqual([
      ['2', 70],
      ['1', 60],
    ]);
    expect(listInbox(state, acme, 'support').map((row) => row.conversationId)).toEqual(['3']);
    expect(listInbox(state, globex, 'sales').map((row) => row.tenantId)).toEqual(['globex']);
    expect(listInbox(state, globex, 'support')).toEqual([]);
  });

  it("counts each agent's open conversations per tenant", () => {
    const state = project(agentLoadProjection, events);
    expect(Object.fromEntries(agentLoad(state, acme))).toEqual({ ana: 2 });
    expect(Object.fromEntries(agentLoad(state, globex))).toEqual({ ana: 1 });

    const reopened = project(agentLoadProjection, [
      ...events,
      recorded(acme, '2', 4, { type: 'ConversationReopened', data: { at: 80 } }),
      recorded(acme, '1', 4, { type: 'ConversationUnassigned', data: { at: 81 } }),
    ]);
    expect(Object.fromEntries(agentLoad(reopened, acme))).toEqual({ ana: 2 });
    expect(agentLoad(reopened, tenantId('initech')).size).toBe(0);
  });
});

/** A plan of commands for a few conversations in two tenants. */
const commandFor = (at: number): fc.Arbitrary<Command> =>
  fc.oneof(
    fc.constantFrom('sales', 'support').map((inboxId): Command => ({ type: 'Start', inboxId, at })),
    fc.string({ maxLength: 12 }).map((text): Command => ({ type: 'Receive', text, at })),
    fc.string({ maxLength: 12 }).map((text): Command => ({ type: 'Reply', text, at })),
    fc.constantFrom('ana', 'bo', 'cy').map((agent): Command => ({ type: 'Assign', agent, at })),
    fc
      .constantFrom<Command['type']>('Read', 'Unassign', 'Close', 'Reopen')
      .map((type) => ({ type, at }) as Command),
  );

const plan = fc.array(
  fc
    .record({
      tenant: fc.constantFrom(acme, globex),
      conversation: fc.constantFrom('1', '2', '3', '4'),
      at: fc.integer({ min: 0, max: 1_000_000 }),
    })
    .chain((target) => commandFor(target.at).map((command) => ({ ...target, command }))),
  { minLength: 1, maxLength: 60 },
);

async function rebuiltFrom<State>(store: EventStore, projection: Projection<State>): Promise<State> {
  const runner = createProjectionRunner({
    projection,
    store,
    broadcast: createLocalBroadcast(),
    batchSize: 7,
  });
  await runner.rebuild();
  return runner.state;
}

const started = (inboxId: string) => ({ type: 'ConversationStarted', data: { inboxId, at: 1 } });

describe('projection runner', () => {
  it('builds the same read models live from the broadcast as rebuilt from the store', async () => {
    await fc.assert(
      fc.asyncProperty(plan, fc.constantFrom(1, 3, 10_000), async (steps, bufferSize) => {
        const store = createMemoryEventStore();
        const broadcast = createLocalBroadcast();
        const runtime = createGrainRuntime({
          store,
          snapshots: createMemorySnapshotStore(),
          broadcast,
          sweepEveryMs: 0,
          maxActive: 3,
        });
        const errors: unknown[] = [];
        const shared = {
          store,
          broadcast,
          bufferSize,
          batchSize: 5,
          onError: (error: unknown) => errors.push(error),
        };
        const inbox = createProjectionRunner({ projection: inboxListProjection, ...shared });
        const load = createProjectionRunner({ projection: agentLoadProjection, ...shared });
        await inbox.start();
        await load.start();

        // Sent all at once: conversations commit in parallel, so publishes cross in global order.
        await Promise.allSettled(
          steps.map(({ tenant, conversation, command }) =>
            runtime.get(conversations, tenant, conversation).ask(command),
          ),
        );

        // Deliveries keep their order per subscriber: once the last commit is in, all earlier ones are.
        await runtime.get(conversations, sentinel, '1').ask({ type: 'Start', inboxId: 'last', at: 0 });
        await vi.waitFor(() => {
          expect(inbox.state.conversations.has('sentinel/conversation-1')).toBe(true);
          expect(load.state.conversations.has('sentinel/conversation-1')).toBe(true);
        });

        expect(inbox.state).toEqual(await rebuiltFrom(store, inboxListProjection));
        expect(load.state).toEqual(await rebuiltFrom(store, agentLoadProjection));
        // With room to spare nothing overflows, so the live path alone got there.
        if (bufferSize === 10_000) expect([inbox.checkpoint, load.checkpoint]).toEqual([START, START]);
        expect(errors).toEqual([]);
        await inbox.stop();
        await load.stop();
        await runtime.close();
      }),
      { numRuns: 40 },
    );
  });

  it('fills a gap in a stream from the store and applies a repeated event once', async () => {
    const store = createMemoryEventStore();
    const broadcast = createLocalBroadcast();
    const runner = createProjectionRunner({ projection: inboxListProjection, store, broadcast });
    await runner.start();
    const stream = streamId('conversation-9');
    const { events } = await store.append(
      acme,
      stream,
      [
        started('sales'),
        { type: 'MessageReceived', data: { messageId: 'm1', text: 'one', at: 2 } },
        { type: 'MessageReceived', data: { messageId: 'm2', text: 'two', at: 3 } },
      ],
      { expectedVersion: 0 },
    );
    const topics = [{ kind: 'tenant' as const, tenantId: acme }];

    await broadcast.publish(topics, events[2]!);
    await broadcast.publish(topics, events[2]!);
    await broadcast.publish(topics, events[1]!);
    // Deliveries keep their order, so once this one is in, the three before it have been handled.
    const last = await store.append(sentinel, streamId('conversation-1'), [started('last')], {
      expectedVersion: 0,
    });
    await broadcast.publish(topics, last.events[0]!);
    await vi.waitFor(() => expect(listInbox(runner.state, sentinel, 'last')).toHaveLength(1));

    expect(listInbox(runner.state, acme, 'sales')).toEqual([
      expect.objectContaining({
        unreadCount: 2,
        version: 3,
        lastMessage: { preview: 'two', at: 3, from: 'customer' },
      }),
    ]);
    expect(runner.checkpoint).toBe(START);
    await runner.catchUp();
    expect(runner.checkpoint).toBe(last.checkpoint);
    expect(listInbox(runner.state, acme, 'sales')[0]?.unreadCount).toBe(2);
    await runner.stop();
    expect(broadcast.stats().subscriptions).toBe(0);
  });
});
