import { conversation, isDomainError, StreamCategory, streamId, tenantId } from '@parley/domain';
import type {
  Checkpoint,
  Contact,
  ConversationCommand,
  ConversationEvent,
  ConversationState,
  InboundContent,
  MessageContent,
  MessageTemplate,
  Platform,
  ReceiveInboundMessage,
  RecordedEvent,
  ReplyContent,
  TenantId,
} from '@parley/domain';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createGrainRuntime, createMemorySnapshotStore, defineGrain } from '../actors';
import { structuredCodec } from '../actors/codec';
import { createLocalBroadcast } from '../broadcast';
import { START } from '../store/checkpoint';
import { createMemoryEventStore } from '../store/memory';
import type { EventStore } from '../store/types';
import {
  agentLoad,
  agentLoadProjection,
  applyConversationEvent,
  createProjectionRunner,
  inboxListProjection,
  isConversationEvent,
  listInbox,
} from '.';
import type { AgentLoadState, ConversationSummary, InboxListState, Projection } from '.';

const acme = tenantId('acme');
const globex = tenantId('globex');
const sentinel = tenantId('sentinel');

const T0 = 1_700_000_000_000;
const HOUR = 60 * 60 * 1000;

const ada: Contact = { id: 'contact-ada', name: 'Ada Lovelace', handle: '+4915112345678' };
const catalogue: readonly MessageTemplate[] = [
  { name: 'order_update', language: 'en', approved: true, paramCount: 1 },
];

const text = (value: string): MessageContent => ({ type: 'text', text: value });
const image = (caption: string | null = null): MessageContent => ({
  type: 'media',
  media: { kind: 'image', url: 'https://cdn.example/cat.jpg', mime: 'image/jpeg', size: 1_000 },
  caption,
});
const orderUpdate: ReplyContent = { type: 'template', name: 'order_update', language: 'en', params: ['42'] };

interface Inbound {
  readonly inboxId?: string;
  readonly platform?: Platform;
  readonly content?: InboundContent;
  readonly messageId?: string;
  readonly contact?: Contact;
}

/** A customer message to conversation `conversationId`, WhatsApp and inbox `sales` unless told. */
function receive(conversationId: string, sentAt: number, inbound: Inbound = {}): ReceiveInboundMessage {
  return {
    type: 'ReceiveInboundMessage',
    data: {
      conversationId,
      inboxId: inbound.inboxId ?? 'sales',
      platform: inbound.platform ?? 'whatsapp',
      externalMessageId: inbound.messageId ?? `wa-${sentAt}`,
      contact: inbound.contact ?? ada,
      content: inbound.content ?? text('hello'),
      sentAt,
    },
  };
}

/** An agent (`ana`) queues a reply; the catalogue holds `order_update`. */
function queue(
  clientMessageId: string,
  now: number,
  content: ReplyContent = text('on it'),
): ConversationCommand {
  return {
    type: 'QueueReply',
    data: { clientMessageId, agentId: 'ana', content, tag: null, now, templates: catalogue },
  };
}

const assign = (agentId: string, at: number): ConversationCommand => ({
  type: 'AssignConversation',
  data: { agentId, at },
});
const setStatus = (status: 'open' | 'pending' | 'resolved', at: number): ConversationCommand => ({
  type: 'SetStatus',
  data: { status, at },
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

/** Runs commands through the domain's conversation decider, in memory, and logs what it emits. */
function createLog() {
  const streams = new Map<string, { state: ConversationState; version: number }>();
  const events: RecordedEvent[] = [];
  return {
    events,
    /** Runs the commands on one conversation; returns the events they recorded. */
    run(tenant: TenantId, id: string, ...commands: ConversationCommand[]): RecordedEvent[] {
      const stream = streams.get(`${tenant}/${id}`) ?? { state: conversation.initialState(), version: 0 };
      const added: RecordedEvent[] = [];
      for (const command of commands) {
        for (const event of conversation.decide(command, stream.state)) {
          stream.state = conversation.evolve(stream.state, event);
          stream.version += 1;
          added.push(recorded(tenant, id, stream.version, event));
        }
      }
      streams.set(`${tenant}/${id}`, stream);
      events.push(...added);
      return added;
    },
  };
}

/** One conversation's events from the real decider. */
function history(id: string, ...commands: ConversationCommand[]): RecordedEvent[] {
  return createLog().run(acme, id, ...commands);
}

/** Folds events into one summary, as both projections do. */
function summarise(events: readonly RecordedEvent[]): ConversationSummary | undefined {
  let summary: ConversationSummary | undefined;
  for (const event of events) {
    if (isConversationEvent(event)) summary = applyConversationEvent(summary, event);
  }
  return summary;
}

describe('applyConversationEvent', () => {
  it('counts customer messages as unread until an agent queues a reply', () => {
    const events = history('1', receive('1', T0), receive('1', T0 + 100, { content: text('anyone?') }));
    expect(summarise(events)).toMatchObject({
      unreadCount: 2,
      lastMessage: { preview: 'anyone?', at: T0 + 100, from: 'customer' },
      lastActivityAt: T0 + 100,
      version: 4,
    });

    const answered = history(
      '1',
      receive('1', T0),
      queue('r1', T0 + 200, text('hello')),
      { type: 'MarkReplySent', data: { clientMessageId: 'r1', platformMessageId: 'wamid.1', at: T0 + 300 } },
      { type: 'RecordDeliveryStatus', data: { platformMessageId: 'wamid.1', status: 'read', at: T0 + 400 } },
    );
    expect(summarise(answered)).toMatchObject({
      unreadCount: 0,
      lastMessage: { preview: 'hello', at: T0 + 200, from: 'agent' },
      lastActivityAt: T0 + 400,
    });

    // There is no "agent read it" event in the domain: only a reply resets the count.
    const again = history('1', receive('1', T0), queue('r1', T0 + 200), receive('1', T0 + 300));
    expect(summarise(again)?.unreadCount).toBe(1);
  });

  it('previews text on one line, media by kind and templates by name', () => {
    const long = history('1', receive('1', T0, { content: text(`line one\n\n  ${'x'.repeat(300)}`) }));
    const preview = summarise(long)!.lastMessage!.preview;
    expect(preview).toHaveLength(140);
    expect(preview.startsWith('line one x')).toBe(true);
    expect(preview.endsWith('…')).toBe(true);

    const previewOf = (...commands: ConversationCommand[]) =>
      summarise(history('1', ...commands))?.lastMessage?.preview;
    expect(previewOf(receive('1', T0, { content: image() }))).toBe('[image]');
    expect(previewOf(receive('1', T0, { content: image('my\ncat') }))).toBe('[image] my cat');
    expect(previewOf(receive('1', T0), queue('r1', T0 + 1, orderUpdate))).toBe('order_update');
  });

  it('keeps the latest message when a customer message arrives out of order', () => {
    const events = history(
      '1',
      receive('1', T0),
      queue('r1', T0 + 500, text('done')),
      receive('1', T0 + 100, { messageId: 'late', content: text('older') }),
    );
    expect(summarise(events)).toMatchObject({
      unreadCount: 1,
      lastMessage: { preview: 'done', at: T0 + 500, from: 'agent' },
      lastActivityAt: T0 + 500,
    });
  });

  it('tracks status, snooze, assignee, labels, priority, cycle and contact', () => {
    const renamed = { ...ada, name: 'Ada King' };
    const events = history(
      '7',
      receive('7', T0, { inboxId: 'support', platform: 'telegram' }),
      assign('ana', T0 + 1),
      { type: 'AddLabel', data: { label: 'vip', at: T0 + 2 } },
      { type: 'AddLabel', data: { label: 'billing', at: T0 + 3 } },
      { type: 'RemoveLabel', data: { label: 'vip', at: T0 + 4 } },
      { type: 'SetPriority', data: { priority: 'urgent', at: T0 + 5 } },
      { type: 'SnoozeConversation', data: { until: T0 + HOUR, now: T0 + 6 } },
    );
    expect(summarise(events)).toMatchObject({
      tenantId: 'acme',
      conversationId: '7',
      inboxId: 'support',
      platform: 'telegram',
      contact: ada,
      status: 'snoozed',
      snoozedUntil: T0 + HOUR,
      assigneeId: 'ana',
      labels: ['billing'],
      priority: 'urgent',
      cycle: 1,
    });

    const log = createLog();
    log.run(acme, '7', receive('7', T0), assign('ana', T0 + 1), setStatus('resolved', T0 + 2));
    expect(summarise(log.events)).toMatchObject({ status: 'resolved', cycle: 1, snoozedUntil: null });
    log.run(acme, '7', receive('7', T0 + 3, { contact: renamed }), {
      type: 'UnassignConversation',
      data: { at: T0 + 4 },
    });
    expect(summarise(log.events)).toMatchObject({
      status: 'open',
      cycle: 2,
      contact: renamed,
      assigneeId: null,
    });
  });

  it('only moves the version and last activity on events the list does not show', () => {
    const log = createLog();
    log.run(acme, '1', receive('1', T0), queue('r1', T0 + 1));
    const before = summarise(log.events)!;
    log.run(
      acme,
      '1',
      { type: 'MarkReplySending', data: { clientMessageId: 'r1', now: T0 + 2 } },
      { type: 'MarkReplySent', data: { clientMessageId: 'r1', platformMessageId: 'wamid.1', at: T0 + 3 } },
      { type: 'RecordDeliveryStatus', data: { platformMessageId: 'wamid.1', status: 'read', at: T0 + 4 } },
      { type: 'AddNote', data: { noteId: 'n1', agentId: 'bo', text: 'vip', mentions: [], at: T0 + 5 } },
      queue('r2', T0 + 6),
      { type: 'MarkReplyFailed', data: { clientMessageId: 'r2', reason: 'TIMEOUT', at: T0 + 7 } },
    );
    const after = summarise(log.events)!;
    const types = log.events.slice(-7).map((event) => event.type);
    expect(types).toEqual([
      'ReplySending',
      'ReplySent',
      'ReplyDelivered',
      'ReplyRead',
      'NoteAdded',
      'ReplyQueued',
      'ReplyFailed',
    ]);
    expect(after).toEqual({
      ...before,
      lastMessage: { preview: 'on it', at: T0 + 6, from: 'agent', agentId: 'ana' },
      version: before.version + 7,
      lastActivityAt: T0 + 7,
    });
  });

  it('ignores a conversation that never started', () => {
    const events = history('2', receive('2', T0), assign('ana', T0 + 1));
    expect(summarise(events.slice(1))).toBeUndefined();
  });

  it('knows conversation events only', () => {
    const [started] = history('1', receive('1', T0));
    const ledger = { ...started!, streamId: streamId('ledger-1') };
    const unknown = { ...started!, type: 'ConversationArchived' };
    expect(isConversationEvent(started!)).toBe(true);
    expect(isConversationEvent(ledger)).toBe(false);
    expect(isConversationEvent(unknown)).toBe(false);
  });

  describe('reply window', () => {
    it.each([
      ['whatsapp', 24 * HOUR],
      ['instagram', 24 * HOUR],
      ['messenger', 24 * HOUR],
      ['telegram', null],
      ['webchat', null],
    ] as const)('on %s closes %s ms after the customer last wrote', (platform, window) => {
      const after = (at: number) => (window === null ? null : at + window);
      const log = createLog();
      log.run(acme, '1', receive('1', T0, { platform }));
      expect(summarise(log.events)?.windowClosesAt).toBe(after(T0));
      log.run(acme, '1', receive('1', T0 + 5 * HOUR, { platform }), queue('r1', T0 + 6 * HOUR));
      // An agent's reply does not open the window, and a late-arriving older message does not move it back.
      log.run(acme, '1', receive('1', T0 + HOUR, { platform, messageId: 'late' }));
      expect(summarise(log.events)).toMatchObject({
        windowClosesAt: after(T0 + 5 * HOUR),
        lastCustomerMessageAt: T0 + 5 * HOUR,
      });
    });
  });
});

/** Applies events straight to a projection's state, for the read-model tests. */
function project<State>(projection: Projection<State>, events: readonly RecordedEvent[]): State {
  const state = projection.initialState();
  for (const event of events) projection.apply(state, event);
  return state;
}

describe('inbox list and agent load', () => {
  function scenario() {
    const log = createLog();
    log.run(acme, '1', receive('1', 10));
    log.run(acme, '2', receive('2', 20));
    log.run(acme, '3', receive('3', 30, { inboxId: 'support' }));
    log.run(globex, '1', receive('1', 40));
    log.run(acme, '1', receive('1', 50, { messageId: 'again' }), assign('ana', 60));
    log.run(acme, '2', assign('ana', 61));
    log.run(acme, '3', assign('bo', 62));
    log.run(globex, '1', assign('ana', 63));
    log.run(acme, '2', setStatus('resolved', 70));
    log.run(acme, '3', assign('ana', 71));
    return log;
  }

  it('lists an inbox of a tenant, most recently active first', () => {
    const state = project(inboxListProjection, scenario().events);
    expect(listInbox(state, acme, 'sales').map((row) => [row.conversationId, row.lastActivityAt])).toEqual([
      ['2', 70],
      ['1', 60],
    ]);
    expect(listInbox(state, acme, 'support').map((row) => row.conversationId)).toEqual(['3']);
    expect(listInbox(state, globex, 'sales').map((row) => row.tenantId)).toEqual(['globex']);
    expect(listInbox(state, globex, 'support')).toEqual([]);
  });

  it("counts each agent's unresolved conversations per tenant", () => {
    const log = scenario();
    const loadOf = (tenant: TenantId) =>
      Object.fromEntries(agentLoad(project(agentLoadProjection, log.events), tenant));
    expect(loadOf(acme)).toEqual({ ana: 2 });
    expect(loadOf(globex)).toEqual({ ana: 1 });

    // Pending and snoozed conversations are still the agent's.
    log.run(acme, '1', setStatus('pending', 80));
    log.run(acme, '3', { type: 'SnoozeConversation', data: { until: 200, now: 81 } });
    expect(loadOf(acme)).toEqual({ ana: 2 });

    log.run(acme, '2', setStatus('open', 82));
    expect(loadOf(acme)).toEqual({ ana: 3 });
    log.run(acme, '1', { type: 'UnassignConversation', data: { at: 83 } });
    log.run(acme, '3', setStatus('resolved', 84));
    expect(loadOf(acme)).toEqual({ ana: 1 });
    expect(loadOf(globex)).toEqual({ ana: 1 });
    expect(loadOf(tenantId('initech'))).toEqual({});
  });
});

const conversations = defineGrain({
  category: StreamCategory.conversation,
  decider: conversation,
  snapshotEvery: 4,
  // The state holds Sets and Maps.
  codec: structuredCodec<ConversationState>(),
  toTopics: (event) => [
    {
      kind: 'conversation',
      tenantId: event.tenantId,
      id: event.streamId.slice(StreamCategory.conversation.length + 1),
    },
  ],
});

/** Each conversation of the plan lives on one platform, so most commands get past PLATFORM_MISMATCH. */
const PLATFORMS: Readonly<Record<string, Platform>> = {
  '1': 'whatsapp',
  '2': 'whatsapp',
  '3': 'telegram',
  '4': 'instagram',
};

/**
 * A conversation command (or a short run of them) at `at`, over a few ids so that replies,
 * receipts and duplicates meet.
 * Customer messages and replies come more often: every other command needs a started conversation.
 */
function commandsFor(id: string, at: number): fc.Arbitrary<ConversationCommand[]> {
  const replyId = fc.constantFrom('r1', 'r2', 'r3');
  const agent = fc.constantFrom('ana', 'bo', 'cy');
  const label = fc.constantFrom('vip', 'billing');
  const content = fc.oneof(fc.string({ maxLength: 12 }).map(text), fc.constant(image('cat')));
  const inbound = fc
    .record({
      inboxId: fc.constantFrom('sales', 'support'),
      messageId: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5', 'm6'),
      content,
    })
    .map((message) => receive(id, at, { ...message, platform: PLATFORMS[id] }));
  const queued = fc
    .tuple(replyId, fc.oneof(content, fc.constant(orderUpdate)))
    .map(([clientMessageId, reply]) => queue(clientMessageId, at, reply));
  const lifecycle: fc.Arbitrary<ConversationCommand> = fc.oneof(
    replyId.map(
      (clientMessageId) => ({ type: 'MarkReplySending', data: { clientMessageId, now: at } }) as const,
    ),
    replyId.map(
      (clientMessageId) =>
        ({
          type: 'MarkReplySent',
          data: { clientMessageId, platformMessageId: `p-${clientMessageId}`, at },
        }) as const,
    ),
    replyId.map(
      (clientMessageId) =>
        ({ type: 'MarkReplyFailed', data: { clientMessageId, reason: 'TIMEOUT', at } }) as const,
    ),
    fc.tuple(replyId, fc.constantFrom('delivered' as const, 'read' as const)).map(
      ([clientMessageId, status]) =>
        ({
          type: 'RecordDeliveryStatus',
          data: { platformMessageId: `p-${clientMessageId}`, status, at },
        }) as const,
    ),
  );
  const other: fc.Arbitrary<ConversationCommand> = fc.oneof(
    fc.constantFrom('n1', 'n2').map(
      (noteId) =>
        ({
          type: 'AddNote',
          data: { noteId, agentId: 'ana', text: 'see @bo', mentions: ['bo'], at },
        }) as const,
    ),
    label.map((value) => ({ type: 'AddLabel', data: { label: value, at } }) as const),
    label.map((value) => ({ type: 'RemoveLabel', data: { label: value, at } }) as const),
    agent.map((agentId) => assign(agentId, at)),
    fc.constant({ type: 'UnassignConversation', data: { at } } as const),
    fc
      .constantFrom('open' as const, 'pending' as const, 'resolved' as const)
      .map((status) => setStatus(status, at)),
    fc.constant({ type: 'SnoozeConversation', data: { until: at + HOUR, now: at } } as const),
    fc.constant({ type: 'WakeConversation', data: { now: at } } as const),
    fc
      .constantFrom('none' as const, 'low' as const, 'urgent' as const)
      .map((priority) => ({ type: 'SetPriority', data: { priority, at } }) as const),
  );
  // A reply that makes it all the way, so receipts meet a sent reply often enough.
  const delivered = fc
    .tuple(replyId, fc.constantFrom('delivered' as const, 'read' as const))
    .map(([clientMessageId, status]): ConversationCommand[] => [
      queue(clientMessageId, at),
      {
        type: 'MarkReplySent',
        data: { clientMessageId, platformMessageId: `p-${clientMessageId}`, at },
      },
      { type: 'RecordDeliveryStatus', data: { platformMessageId: `p-${clientMessageId}`, status, at } },
    ]);
  return fc.oneof(
    { arbitrary: inbound.map((command) => [command]), weight: 3 },
    { arbitrary: queued.map((command) => [command]), weight: 2 },
    { arbitrary: lifecycle.map((command) => [command]), weight: 2 },
    { arbitrary: other.map((command) => [command]), weight: 4 },
    { arbitrary: delivered, weight: 1 },
  );
}

/** A plan of commands for a few conversations in two tenants, over three days so windows close. */
const plan = fc
  .array(
    fc
      .record({
        tenant: fc.constantFrom(acme, globex),
        conversation: fc.constantFrom('1', '2', '3', '4'),
        at: fc.integer({ min: T0, max: T0 + 72 * HOUR }),
      })
      .chain((target) =>
        commandsFor(target.conversation, target.at).map((commands) =>
          commands.map((command) => ({ ...target, command })),
        ),
      ),
    { minLength: 1, maxLength: 80, size: 'max' },
  )
  .map((runs) => runs.flat());

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

/** The agent load the inbox list implies: unresolved assigned conversations, per tenant and agent. */
function loadFromList(list: InboxListState): AgentLoadState['load'] {
  const load: AgentLoadState['load'] = new Map();
  for (const summary of list.conversations.values()) {
    if (summary.status === 'resolved' || summary.assigneeId === null) continue;
    const agents = load.get(summary.tenantId) ?? new Map<string, number>();
    agents.set(summary.assigneeId, (agents.get(summary.assigneeId) ?? 0) + 1);
    load.set(summary.tenantId, agents);
  }
  return load;
}

describe('projection runner', () => {
  it('builds the same read models live from the broadcast as rebuilt from the store', async () => {
    await fc.assert(
      fc.asyncProperty(plan, fc.constantFrom(1, 3, 10_000), async (steps, bufferSize) => {
        const store = createMemoryEventStore();
        const broadcast = createLocalBroadcast();
        const errors: unknown[] = [];
        const runtime = createGrainRuntime({
          store,
          snapshots: createMemorySnapshotStore(),
          broadcast,
          sweepEveryMs: 0,
          maxActive: 3,
          onError: (error) => errors.push(error),
        });
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
        const results = await Promise.allSettled(
          steps.map(({ tenant, conversation: id, command }) =>
            runtime.get(conversations, tenant, id).ask(command),
          ),
        );
        // The domain may refuse a command (a reply to no conversation, a closed window); nothing else fails.
        for (const result of results) {
          if (result.status === 'rejected') expect(isDomainError(result.reason)).toBe(true);
        }

        // Deliveries keep their order per subscriber: once the last commit is in, all earlier ones are.
        // The sentinel's one command records three events: wait for the last of them.
        const last = await runtime
          .get(conversations, sentinel, '1')
          .ask(receive('1', T0, { inboxId: 'last' }));
        await vi.waitFor(() => {
          expect(inbox.state.conversations.get('sentinel/conversation-1')?.version).toBe(last.version);
          expect(load.state.conversations.get('sentinel/conversation-1')?.version).toBe(last.version);
        });

        expect(inbox.state).toEqual(await rebuiltFrom(store, inboxListProjection));
        expect(load.state).toEqual(await rebuiltFrom(store, agentLoadProjection));
        expect(load.state.load).toEqual(loadFromList(inbox.state));
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
    const decided = history(
      '9',
      receive('9', 2, { content: text('one') }),
      receive('9', 3, { content: text('two') }),
    );
    expect(decided.map((event) => event.type)).toEqual([
      'ConversationStarted',
      'CycleStarted',
      'InboundMessageReceived',
      'InboundMessageReceived',
    ]);
    const { events } = await store.append(
      acme,
      streamId('conversation-9'),
      decided.map(({ type, data }) => ({ type, data })),
      { expectedVersion: 0 },
    );
    const topics = [{ kind: 'tenant' as const, tenantId: acme }];

    await broadcast.publish(topics, events[3]!);
    await broadcast.publish(topics, events[3]!);
    await broadcast.publish(topics, events[1]!);
    // Deliveries keep their order, so once this one is in, the three before it have been handled.
    const [first] = history('1', receive('1', 1, { inboxId: 'last' }));
    const last = await store.append(
      sentinel,
      streamId('conversation-1'),
      [{ type: first!.type, data: first!.data }],
      { expectedVersion: 0 },
    );
    await broadcast.publish(topics, last.events[0]!);
    await vi.waitFor(() => expect(listInbox(runner.state, sentinel, 'last')).toHaveLength(1));

    expect(listInbox(runner.state, acme, 'sales')).toEqual([
      expect.objectContaining({
        unreadCount: 2,
        version: 4,
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
