import {
  conversation,
  fold,
  isDomainError,
  streamId,
  tenantId,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
} from '@parley/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemorySnapshotStore } from '../../src/actors';
import { conversationGrain } from '../../src/grains';
import { stateAt } from '../../src/history/time-travel';
import { createMemoryEventStore } from '../../src/store/memory';

const demo = tenantId('demo');
const stream = streamId('conversation-c1');
const T0 = Date.UTC(2026, 11, 7, 9);
const MINUTE = 60_000;
const contact = { id: '4917600000001', name: 'Pia Property', handle: '+4917600000001' };

/** What an agent or a customer does next; turned into a command at its own minute. */
const step = fc.oneof(
  fc.record({ kind: fc.constant('message' as const), text: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('reply' as const), text: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('note' as const), text: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('label' as const), label: fc.constantFrom('vip', 'billing', 'bug') }),
  fc.record({ kind: fc.constant('unlabel' as const), label: fc.constantFrom('vip', 'billing', 'bug') }),
  fc.record({ kind: fc.constant('assign' as const), agentId: fc.constantFrom('ana', 'ben') }),
  fc.record({ kind: fc.constant('unassign' as const) }),
  fc.record({ kind: fc.constant('status' as const), status: fc.constantFrom('open', 'pending', 'resolved') }),
  fc.record({ kind: fc.constant('priority' as const), priority: fc.constantFrom('none', 'high', 'urgent') }),
  fc.record({ kind: fc.constant('snooze' as const), minutes: fc.integer({ min: 1, max: 90 }) }),
  fc.record({ kind: fc.constant('read' as const), agentId: fc.constantFrom('ana', 'ben') }),
);
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

function commandOf(s: Step, i: number, at: number): ConversationCommand {
  switch (s.kind) {
    case 'message':
      return {
        type: 'ReceiveInboundMessage',
        data: {
          conversationId: 'c1',
          inboxId: 'support',
          platform: 'whatsapp',
          externalMessageId: `wamid.${i}`,
          contact,
          content: { type: 'text', text: s.text },
          sentAt: at,
        },
      };
    case 'reply':
      return {
        type: 'QueueReply',
        data: {
          clientMessageId: `r${i}`,
          agentId: 'ana',
          content: { type: 'text', text: s.text },
          tag: null,
          now: at,
          templates: [],
        },
      };
    case 'note':
      return { type: 'AddNote', data: { noteId: `n${i}`, agentId: 'ben', text: s.text, mentions: [], at } };
    case 'label':
      return { type: 'AddLabel', data: { label: s.label, at } };
    case 'unlabel':
      return { type: 'RemoveLabel', data: { label: s.label, at } };
    case 'assign':
      return { type: 'AssignConversation', data: { agentId: s.agentId, at } };
    case 'unassign':
      return { type: 'UnassignConversation', data: { at } };
    case 'status':
      return { type: 'SetStatus', data: { status: s.status, at } };
    case 'priority':
      return { type: 'SetPriority', data: { priority: s.priority, at } };
    case 'snooze':
      return { type: 'SnoozeConversation', data: { until: at + s.minutes * MINUTE, now: at } };
    case 'read':
      return { type: 'MarkConversationRead', data: { agentId: s.agentId, upTo: at, at } };
  }
}

/**
 * Runs the plan through the domain's decider (refused commands change nothing) and records each
 * command's events at its own minute; returns the events with the time each was recorded at.
 */
async function record(plan: readonly Step[]) {
  let now = T0;
  const store = createMemoryEventStore({ clock: () => now });
  let state = conversation.initialState();
  const recorded: { event: ConversationEvent; at: number }[] = [];
  const steps: Step[] = [{ kind: 'message', text: 'hello' }, ...plan];
  for (const [i, s] of steps.entries()) {
    now = T0 + i * MINUTE;
    let events: ConversationEvent[];
    try {
      events = conversation.decide(commandOf(s, i, now), state);
    } catch (error) {
      if (isDomainError(error)) continue;
      throw error;
    }
    if (events.length === 0) continue;
    await store.append(demo, stream, events, { expectedVersion: recorded.length });
    state = fold(conversation, state, events);
    recorded.push(...events.map((event) => ({ event, at: now })));
  }
  return { store, recorded, lastAt: now };
}

/** The reference: the domain's own fold of the first `n` events. */
const prefixFold = (recorded: readonly { event: ConversationEvent }[], n: number): ConversationState =>
  fold(
    conversation,
    conversation.initialState(),
    recorded.slice(0, n).map((r) => r.event),
  );

describe('time travel: a conversation at a point is the fold of its events up to it', () => {
  it('[TT1] for random event sequences, the state at a version or a time equals the fold of the prefix, with or without a snapshot in the middle', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 0, maxLength: 30 }),
        fc.nat(),
        fc.nat(),
        fc.option(fc.nat(), { nil: undefined }),
        async (plan, versionAt, timeAt, snapshotAt) => {
          const { store, recorded, lastAt } = await record(plan);
          const total = recorded.length;
          const snapshots = createMemorySnapshotStore();
          let snapshotVersion: number | undefined;
          if (snapshotAt !== undefined) {
            // As the runtime stores one: the grain's revision around its codec's JSON.
            snapshotVersion = 1 + (snapshotAt % total);
            const state = conversationGrain.codec.encode(prefixFold(recorded, snapshotVersion));
            await snapshots.save(demo, stream, snapshotVersion, {
              revision: conversationGrain.snapshotRevision,
              state,
            });
          }
          const sources = { store, snapshots };

          const version = versionAt % (total + 1);
          const byVersion = await stateAt(sources, conversationGrain, demo, stream, { version });
          expect(byVersion.version).toBe(version);
          expect(byVersion.state).toEqual(prefixFold(recorded, version));
          expect(byVersion.events.map((e) => [e.version, e.type])).toEqual(
            recorded.slice(0, version).map((r, i) => [i + 1, r.event.type]),
          );
          expect(byVersion.fromSnapshot).toBe(
            snapshotVersion !== undefined && snapshotVersion <= version ? snapshotVersion : null,
          );

          // Any time from a minute before the first event to a minute after the last.
          const time = T0 - MINUTE + (timeAt % (lastAt - T0 + 2 * MINUTE));
          const byTime = await stateAt(sources, conversationGrain, demo, stream, { time });
          const upTo = recorded.filter((r) => r.at <= time).length;
          expect(byTime.version).toBe(upTo);
          expect(byTime.state).toEqual(prefixFold(recorded, upTo));
          expect(byTime.events.every((e) => Date.parse(e.at) <= time)).toBe(true);
        },
      ),
    );
  });
});
