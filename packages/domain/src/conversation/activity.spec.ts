import { describe, expect, it } from 'vitest';
import { card } from '../card/decider';
import type { CardEvent } from '../card/types';
import { fold } from '../shared/envelope';
import { board, HOUR, inbound, MINUTE, queued, received, started, T0 } from '../testing/fixtures';
import { activityText, actorOf, conversationActivity, failureReason, type LoggedEvent } from './activity';
import { conversation } from './decider';
import type { ConversationCommand, ConversationEvent } from './types';

const NAMES: Record<string, string> = { ana: 'Ana', ben: 'Ben', me: 'You' };
const words = {
  agent: (id: string) => NAMES[id] ?? id,
  stage: (id: string) => board.stages.find((stage) => stage.id === id)?.name ?? id,
  time: (at: number) => `t+${at - T0}`,
};

/** Runs commands through the conversation decider, each by an agent (or null), and keeps the log. */
function logOf(steps: readonly (readonly [string | null, ConversationCommand])[]): LoggedEvent[] {
  const log: LoggedEvent[] = started().map((event) => ({ event, by: null }));
  for (const [agent, command] of steps) {
    const state = fold(
      conversation,
      conversation.initialState(),
      log.map((entry) => entry.event as ConversationEvent),
    );
    for (const event of conversation.decide(command, state)) log.push({ event, by: agent });
  }
  return log;
}
/** The lines a reader sees, in log order. */
const lines = (events: readonly LoggedEvent[]) =>
  conversationActivity(events).map((entry) => activityText(entry.activity, words));

describe('activity lines of a conversation', () => {
  it('[AC1] say who resolved, labelled, set the priority and snoozed, by name ("You" for the reader)', () => {
    const log = logOf([
      ['ana', { type: 'AddLabel', data: { label: 'billing', at: T0 + 1 } }],
      ['me', { type: 'SetPriority', data: { priority: 'high', at: T0 + 2 } }],
      ['ben', { type: 'RemoveLabel', data: { label: 'billing', at: T0 + 3 } }],
      ['ana', { type: 'SnoozeConversation', data: { until: T0 + HOUR, now: T0 + 4 } }],
      ['ben', { type: 'AssignConversation', data: { agentId: 'ana', at: T0 + 5 } }],
      ['ana', { type: 'UnassignConversation', data: { at: T0 + 6 } }],
      ['ana', { type: 'SetStatus', data: { status: 'resolved', at: T0 + 7 } }],
    ]);
    expect(lines(log)).toEqual([
      'Label billing added by Ana',
      'Priority set to high by You',
      'Label billing removed by Ben',
      `Snoozed until ${words.time(T0 + HOUR)} by Ana`,
      'Assigned to Ana by Ben',
      'Unassigned from Ana by Ana',
      'Resolved by Ana',
    ]);
    expect(conversationActivity(log).map((entry) => entry.at)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => T0 + n),
    );
  });

  it('[AC1] leave messages, replies, notes, read marks and deliveries out, and name nobody for the system', () => {
    const quiet: ConversationEvent[] = [
      ...started(),
      queued('r1', T0 + MINUTE),
      { type: 'ReplySent', data: { clientMessageId: 'r1', platformMessageId: 'w1', at: T0 + MINUTE } },
      { type: 'NoteAdded', data: { noteId: 'n1', agentId: 'ana', text: 'hi', mentions: [], at: T0 + 2 } },
      { type: 'ConversationRead', data: { agentId: 'ana', upTo: T0, at: T0 + 3 } },
      received('m2', T0 + 4),
    ];
    expect(conversationActivity(quiet.map((event) => ({ event, by: 'ana' })))).toEqual([]);
    expect(lines(logOf([[null, { type: 'AddLabel', data: { label: 'vip', at: T0 } }]]))).toEqual([
      'Label vip added',
    ]);
    expect(actorOf({ actor: { kind: 'agent', id: 'ana' } })).toBe('ana');
    expect([actorOf({ actor: { kind: 'system', id: 'seed' } }), actorOf({}), actorOf(null)]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('[AC2] a resolved conversation opened again is one "reopened" line with its new cycle, by an agent or a customer', () => {
    const log = logOf([
      ['ana', { type: 'SetStatus', data: { status: 'resolved', at: T0 + 1 } }],
      ['ben', { type: 'SetStatus', data: { status: 'open', at: T0 + 2 } }],
      ['ben', { type: 'SetStatus', data: { status: 'resolved', at: T0 + 3 } }],
      [null, inbound('m9', T0 + 4)],
      ['ana', { type: 'SetStatus', data: { status: 'pending', at: T0 + 5 } }],
      ['ana', { type: 'SetStatus', data: { status: 'open', at: T0 + 6 } }],
      ['ana', { type: 'SnoozeConversation', data: { until: T0 + 10, now: T0 + 7 } }],
      [null, { type: 'WakeConversation', data: { now: T0 + 10 } }],
    ]);
    expect(lines(log)).toEqual([
      'Resolved by Ana',
      'Reopened by Ben — new cycle (2)',
      'Resolved by Ben',
      'Reopened by a customer message — new cycle (3)',
      'Marked pending by Ana',
      'Marked open by Ana',
      `Snoozed until ${words.time(T0 + 10)} by Ana`,
      'Snooze ended — open again',
    ]);
  });

  it('[AC1] never puts a change before an earlier one of the same log (a platform clock behind ours)', () => {
    const log = logOf([
      ['ana', { type: 'SetStatus', data: { status: 'resolved', at: T0 + 5_000 } }],
      // The customer's platform stamps in whole seconds: their next message reads earlier.
      [null, inbound('m2', T0 + 4_000)],
    ]);
    const entries = conversationActivity(log);
    expect(entries.map((entry) => entry.activity.kind)).toEqual(['resolved', 'reopened']);
    expect(entries.map((entry) => entry.at)).toEqual([T0 + 5_000, T0 + 5_000]);
  });

  it('[AC3] an assignment by the inbox policy names the policy, not the engine that carried it', () => {
    const log = logOf([
      [null, { type: 'AssignConversation', data: { agentId: 'ben', at: T0 + 1, policy: 'round-robin' } }],
      ['ana', { type: 'AssignConversation', data: { agentId: 'me', at: T0 + 2 } }],
      [null, { type: 'AssignConversation', data: { agentId: 'ana', at: T0 + 3, policy: 'least-busy' } }],
    ]);
    expect(log.at(-3)!.event).toEqual({
      type: 'ConversationAssigned',
      data: { agentId: 'ben', at: T0 + 1, policy: 'round-robin' },
    });
    expect(log.at(-2)!.event).toEqual({ type: 'ConversationAssigned', data: { agentId: 'me', at: T0 + 2 } });
    expect(lines(log)).toEqual([
      'Assigned to Ben by round robin',
      'Assigned to You by Ana',
      'Assigned to Ana by least busy',
    ]);
  });

  it("[AC4] the card's stages are lines too: where it entered the board and each move, by whom, with the stage's name", () => {
    const cardLog: CardEvent[] = [];
    const decideCard = (command: Parameters<typeof card.decide>[0]) =>
      cardLog.push(...card.decide(command, fold(card, card.initialState(), cardLog)));
    decideCard({
      type: 'EnterWorkflow',
      data: { conversationId: 'conv-1', cycle: 1, workflow: board, orderKey: 'a0', by: 'system', at: T0 + 1 },
    });
    decideCard({
      type: 'MoveCard',
      data: {
        toStageId: 'triage',
        orderKey: 'a0',
        workflow: board,
        targetStageCount: 0,
        force: false,
        by: 'ana',
        at: T0 + 2,
      },
    });
    const logged: LoggedEvent[] = [
      { event: cardLog[0]!, by: null },
      { event: cardLog[1]!, by: 'ana' },
    ];
    expect(lines(logged)).toEqual(['Put on the board in New', 'Moved to Triage by Ana']);
  });

  it('[AC5] a failed reply says why in words: the rule for a refusal, the platform code otherwise', () => {
    const log = logOf([
      [
        'ana',
        {
          type: 'QueueReply',
          data: {
            clientMessageId: 'r1',
            agentId: 'ana',
            content: { type: 'text', text: 'hi' },
            tag: null,
            now: T0 + MINUTE,
            templates: [],
          },
        },
      ],
      [null, { type: 'MarkReplySending', data: { clientMessageId: 'r1', now: T0 + 25 * HOUR } }],
      [
        'ana',
        {
          type: 'QueueReply',
          data: {
            clientMessageId: 'r2',
            agentId: 'ana',
            content: { type: 'text', text: 'hi' },
            tag: null,
            now: T0 + 2 * MINUTE,
            templates: [],
          },
        },
      ],
      [
        null,
        { type: 'MarkReplyFailed', data: { clientMessageId: 'r2', reason: '131026', at: T0 + 3 * MINUTE } },
      ],
    ]);
    expect(lines(log)).toEqual([
      'Reply failed: the 24-hour window has closed',
      'Reply failed: the platform did not take it (131026)',
    ]);
    expect(failureReason('WINDOW_CLOSED')).toBe('the 24-hour window has closed');
  });
});
