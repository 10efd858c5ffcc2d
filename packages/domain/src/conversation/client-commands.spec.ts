import { describe, expect, it } from 'vitest';
import { ReplyRefusalCode } from '../platforms/policy';
import { DAY, HOUR, MINUTE, queued, started, T0, text } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { fold } from '../shared/envelope';
import {
  CLIENT_COMMAND_TYPES,
  conversationFromSummary,
  describeRefusal,
  toConversationCommand,
  type ClientCommand,
} from './client-commands';
import { conversation } from './decider';
import { applyToSummary, type ConversationSummary } from './summary';
import { ConversationErrorCode, type ConversationEvent } from './types';

const given = (events: ConversationEvent[]) => spec(conversation).given(events);
const context = { agentId: 'agent-1', now: T0 + MINUTE, templates: [] };
const resolvedAt = (at: number): ConversationEvent[] => [
  { type: 'StatusChanged', data: { status: { kind: 'resolved' }, reason: 'agent', at } },
  { type: 'CycleEnded', data: { cycle: 1, at } },
];

describe('client commands', () => {
  it('[CC1] every client command type becomes the domain command of the same name, with the server-owned agent and time', () => {
    const samples: ClientCommand[] = [
      { type: 'QueueReply', clientMessageId: 'r1', content: text('hi'), tag: null },
      { type: 'AddNote', noteId: 'n1', text: 'see', mentions: ['agent-2'] },
      { type: 'AddLabel', label: 'vip' },
      { type: 'RemoveLabel', label: 'vip' },
      { type: 'AssignConversation', agentId: 'agent-2' },
      { type: 'UnassignConversation' },
      { type: 'SetStatus', status: 'pending' },
      { type: 'SnoozeConversation', until: T0 + DAY },
      { type: 'SetPriority', priority: 'high' },
      { type: 'MarkConversationRead', upTo: T0 },
    ];
    expect(samples.map((s) => s.type).sort()).toEqual([...CLIENT_COMMAND_TYPES].sort());
    for (const sample of samples) {
      const command = toConversationCommand(sample, context);
      expect(command.type).toBe(sample.type);
      const data = command.data as Record<string, unknown>;
      expect(data.at ?? data.now).toBe(context.now);
    }
    expect(toConversationCommand(samples[0]!, context).data).toMatchObject({
      agentId: 'agent-1',
      templates: [],
    });
    expect(toConversationCommand(samples[1]!, context).data).toMatchObject({ agentId: 'agent-1' });
    expect(toConversationCommand(samples[9]!, context).data).toEqual({
      agentId: 'agent-1',
      upTo: T0,
      at: T0 + MINUTE,
    });
  });

  it('[CC2] describeRefusal has a sentence for every refusal code the conversation decider can raise', () => {
    const codes = [...Object.values(ConversationErrorCode), ...Object.values(ReplyRefusalCode)];
    for (const code of codes) {
      const { message, nextStep } = describeRefusal(code);
      expect(message, code).not.toBe('The change was refused');
      expect(message.length, code).toBeGreaterThan(5);
      expect(nextStep === null || nextStep.length > 3, code).toBe(true);
    }
    expect(describeRefusal('WINDOW_CLOSED')).toEqual({
      message: 'The 24-hour window has closed',
      nextStep: 'Send a template instead',
    });
    expect(describeRefusal('SOMETHING_NEW')).toEqual({ message: 'The change was refused', nextStep: null });
    expect(describeRefusal('toString')).toEqual({ message: 'The change was refused', nextStep: null });
  });

  it('[CC3] says "while you were offline" only for a command queued offline; online, or unknown, it says what is so now', () => {
    const offline = { queuedOffline: true };
    const online = { queuedOffline: false };
    expect(describeRefusal('WINDOW_CLOSED', offline)).toEqual({
      message: 'The 24-hour window closed while you were offline',
      nextStep: 'Send a template instead',
    });
    expect(describeRefusal('WINDOW_CLOSED', online)).toEqual({
      message: 'The 24-hour window has closed',
      nextStep: 'Send a template instead',
    });
    expect(describeRefusal('HUMAN_AGENT_WINDOW_CLOSED', offline).message).toBe(
      'The 7-day window for agent replies closed while you were offline',
    );
    expect(describeRefusal('HUMAN_AGENT_WINDOW_CLOSED', online).message).toBe(
      'The 7-day window for agent replies has closed',
    );
    expect(describeRefusal('SNOOZE_NOT_IN_FUTURE', offline).message).toBe(
      'The snooze time passed while you were offline',
    );
    expect(describeRefusal('SNOOZE_NOT_IN_FUTURE', online).message).toBe(
      'The snooze time has already passed',
    );
    // No refusal sentence mentions being offline unless the command was queued offline.
    const codes = [...Object.values(ConversationErrorCode), ...Object.values(ReplyRefusalCode)];
    for (const code of codes) {
      expect(describeRefusal(code).message, code).not.toMatch(/offline/);
      expect(describeRefusal(code, online)).toEqual(describeRefusal(code));
      expect(describeRefusal(code, offline).nextStep, code).toBe(describeRefusal(code).nextStep);
    }
    // A code the domain does not know reads the same either way.
    expect(describeRefusal('SOMETHING_NEW', offline)).toEqual(describeRefusal('SOMETHING_NEW'));
  });
});

describe('read state', () => {
  const read = (agentId: string, upTo: number, at = upTo): ConversationEvent => ({
    type: 'ConversationRead',
    data: { agentId, upTo, at },
  });
  const mark = (agentId: string, upTo: number) =>
    ({ type: 'MarkConversationRead', data: { agentId, upTo, at: upTo } }) as const;

  it('[CV15] marking read records the agent and how far; each agent has their own mark', () => {
    const state = given(started())
      .when(mark('agent-1', T0))
      .then([read('agent-1', T0)]);
    expect(state?.readUpTo.get('agent-1')).toBe(T0);
    const both = given([...started(), read('agent-1', T0)])
      .when(mark('agent-2', T0 - MINUTE))
      .then([read('agent-2', T0 - MINUTE)]);
    expect(both?.readUpTo).toEqual(
      new Map([
        ['agent-1', T0],
        ['agent-2', T0 - MINUTE],
      ]),
    );
  });

  it('[CV15] a mark that is not newer produces nothing; it never moves back', () => {
    given([...started(), read('agent-1', T0)])
      .when(mark('agent-1', T0))
      .thenNothingHappens();
    given([...started(), read('agent-1', T0)])
      .when(mark('agent-1', T0 - HOUR))
      .thenNothingHappens();
    const state = given([...started(), read('agent-1', T0), read('agent-1', T0 - HOUR)]).state();
    expect(state?.readUpTo.get('agent-1')).toBe(T0);
  });
});

describe('assignment to inbox members', () => {
  it('[CV16] an assignee outside the inbox members given is refused with ASSIGNEE_NOT_MEMBER', () => {
    given(started())
      .when({ type: 'AssignConversation', data: { agentId: 'stranger', at: T0, members: ['agent-1'] } })
      .thenThrows('ASSIGNEE_NOT_MEMBER', 'CV16');
    given(started())
      .when({ type: 'AssignConversation', data: { agentId: 'agent-1', at: T0, members: ['agent-1'] } })
      .then([{ type: 'ConversationAssigned', data: { agentId: 'agent-1', at: T0 } }]);
    // A device that does not know the members does not check them; the server always does.
    given(started())
      .when({ type: 'AssignConversation', data: { agentId: 'stranger', at: T0 } })
      .then([{ type: 'ConversationAssigned', data: { agentId: 'stranger', at: T0 } }]);
  });
});

describe('a reply to a resolved conversation', () => {
  it('[CV17] reopens it in a new cycle before the reply; an open one stays as it is', () => {
    const now = T0 + HOUR;
    const reply = toConversationCommand(
      { type: 'QueueReply', clientMessageId: 'r1', content: text('on it'), tag: null },
      { agentId: 'agent-1', now, templates: [] },
    );
    const state = given([...started(), ...resolvedAt(T0 + MINUTE)])
      .when(reply)
      .then([
        { type: 'StatusChanged', data: { status: { kind: 'open' }, reason: 'agent', at: now } },
        { type: 'CycleStarted', data: { cycle: 2, at: now } },
        queued('r1', now),
      ]);
    expect(state).toMatchObject({ status: { kind: 'open' }, cycle: 2 });
    given(started())
      .when(reply)
      .then([queued('r1', now)]);
    // A refused reply reopens nothing.
    given([...started(), ...resolvedAt(T0 + MINUTE)])
      .when({ ...reply, data: { ...reply.data, now: T0 + 2 * DAY } } as typeof reply)
      .thenThrows('WINDOW_CLOSED');
  });
});

describe('a conversation known only by its list row', () => {
  const summaryOf = (events: readonly ConversationEvent[]): ConversationSummary =>
    events.reduce<ConversationSummary | undefined>(
      (row, event, i) => applyToSummary(row, event, i + 1),
      undefined,
    )!;
  const triaged: ConversationEvent[] = [
    ...started(),
    { type: 'LabelAdded', data: { label: 'vip', at: T0 + MINUTE } },
    { type: 'ConversationAssigned', data: { agentId: 'agent-2', at: T0 + MINUTE } },
    { type: 'PriorityChanged', data: { priority: 'high', at: T0 + MINUTE } },
    { type: 'ConversationRead', data: { agentId: 'agent-1', upTo: T0, at: T0 + MINUTE } },
    ...resolvedAt(T0 + 2 * MINUTE),
    { type: 'StatusChanged', data: { status: { kind: 'open' }, reason: 'agent', at: T0 + 3 * MINUTE } },
    { type: 'CycleStarted', data: { cycle: 2, at: T0 + 3 * MINUTE } },
    {
      type: 'StatusChanged',
      data: { status: { kind: 'snoozed', until: T0 + DAY }, reason: 'agent', at: T0 + 4 * MINUTE },
    },
  ];

  it('[CC4] the row gives the state evolve leaves for status, labels, assignee, priority, cycle and read marks', () => {
    const folded = fold(conversation, conversation.initialState(), triaged)!;
    const fromRow = conversationFromSummary(summaryOf(triaged));
    const triage = (state: typeof folded) => ({
      conversationId: state.conversationId,
      inboxId: state.inboxId,
      platform: state.platform,
      contact: state.contact,
      status: state.status,
      labels: state.labels,
      assigneeId: state.assigneeId,
      priority: state.priority,
      cycle: state.cycle,
      readUpTo: state.readUpTo,
      lastCustomerMessageAt: state.lastCustomerMessageAt,
    });
    expect(triage(fromRow)).toEqual(triage(folded));
    expect(fromRow.status).toEqual({ kind: 'snoozed', until: T0 + DAY });
    // So every triage command decides the same on the row as on the events.
    const now = T0 + 5 * MINUTE;
    const commands: ClientCommand[] = [
      { type: 'AddLabel', label: 'vip' },
      { type: 'RemoveLabel', label: 'vip' },
      { type: 'AssignConversation', agentId: 'agent-2' },
      { type: 'UnassignConversation' },
      { type: 'SetStatus', status: 'open' },
      { type: 'SetPriority', priority: 'high' },
      { type: 'MarkConversationRead', upTo: T0 },
      { type: 'MarkConversationRead', upTo: T0 + MINUTE },
    ];
    for (const command of commands) {
      const domainCommand = toConversationCommand(command, { ...context, now });
      expect(conversation.decide(domainCommand, fromRow), command.type).toEqual(
        conversation.decide(domainCommand, folded),
      );
    }
  });

  it('[CC4] a customer time the row does not know closes every window; a known one keeps it open', () => {
    const reply = toConversationCommand(
      { type: 'QueueReply', clientMessageId: 'r1', content: text('hi'), tag: null },
      { ...context, now: T0 + HOUR },
    );
    const unknown = conversationFromSummary({
      conversationId: 'c1',
      platform: 'whatsapp',
      lastCustomerMessageAt: null,
    });
    expect(unknown).toMatchObject({
      status: { kind: 'open' },
      labels: [],
      assigneeId: null,
      priority: 'none',
    });
    expect(() => conversation.decide(reply, unknown)).toThrow(
      expect.objectContaining({ code: 'WINDOW_CLOSED' }),
    );
    const known = conversationFromSummary({
      conversationId: 'c1',
      platform: 'whatsapp',
      lastCustomerMessageAt: T0,
    });
    expect(conversation.decide(reply, known).map((event) => event.type)).toEqual(['ReplyQueued']);
  });
});
