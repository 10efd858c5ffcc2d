import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../shared/envelope';
import { T0 } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { canTake, type AssignmentPolicy, type Presence, type StrategyState } from './assignment';
import { agentLoads, inbox } from './decider';
import type { InboxCommand, InboxEvent } from './types';

const given = (events: InboxEvent[]) => spec(inbox).given(events);
const created = (policy: AssignmentPolicy = 'round-robin'): InboxEvent => ({
  type: 'InboxCreated',
  data: {
    inboxId: 'inbox-1',
    name: 'Support',
    channel: { platform: 'whatsapp', channelId: '+4930123' },
    policy,
    at: T0,
  },
});
const member = (agentId: string, presence: Presence = 'online', capacity = 2, weight = 1): InboxEvent => ({
  type: 'MemberAdded',
  data: { agentId, weight, capacity, presence, at: T0 },
});
const request = (conversationId: string, at = T0): InboxCommand => ({
  type: 'RequestAssignment',
  data: { conversationId, at },
});
const assigned = (conversationId: string, agentId: string, strategy: StrategyState, at = T0): InboxEvent => ({
  type: 'AgentAssigned',
  data: { conversationId, agentId, manual: false, strategy, at },
});
const rr = (lastAgentId: string): StrategyState => ({ kind: 'round-robin', lastAgentId });
const queuedEvent = (conversationId: string, at = T0): InboxEvent => ({
  type: 'ConversationQueued',
  data: { conversationId, at },
});
const presence = (agentId: string, value: Presence, at = T0): InboxCommand => ({
  type: 'SetPresence',
  data: { agentId, presence: value, at },
});

describe('an inbox', () => {
  it('[AS13] reads a presence recorded as away (before busy existed) as busy, and gives them nothing', () => {
    const away = {
      ...member('ann'),
      data: { ...member('ann').data, presence: 'away' },
    } as unknown as InboxEvent;
    const state = given([created(), away, member('bob', 'offline')])
      .when(request('c1'))
      .then([queuedEvent('c1')]);
    expect(state?.members[0]?.presence).toBe('busy');
    const changed = {
      type: 'PresenceChanged',
      data: { agentId: 'bob', presence: 'away', at: T0 },
    } as unknown as InboxEvent;
    expect(given([created(), member('bob'), changed]).state()?.members[0]?.presence).toBe('busy');
  });

  it('[AS5] assigns a conversation with its policy', () => {
    const state = given([created(), member('ann'), member('bob')])
      .when(request('c1'))
      .then([assigned('c1', 'ann', rr('ann'))]);
    expect(state && agentLoads(state).map((a) => a.load)).toEqual([1, 0]);
  });

  it('[AS5] queues a conversation nobody can take', () => {
    const state = given([created(), member('ann', 'busy'), member('bob', 'offline')])
      .when(request('c1'))
      .then([queuedEvent('c1')]);
    expect(state?.queue).toEqual([{ conversationId: 'c1', queuedAt: T0 }]);
  });

  it('[AS5] ignores a request for a conversation already assigned or queued', () => {
    given([created(), member('ann'), assigned('c1', 'ann', rr('ann'))])
      .when(request('c1'))
      .thenNothingHappens();
    given([created(), queuedEvent('c1')])
      .when(request('c1'))
      .thenNothingHappens();
  });

  it('[AS6] assigns queued conversations oldest first when an agent comes online', () => {
    given([
      created(),
      member('ann', 'offline', 2),
      queuedEvent('c2', T0 + 2),
      queuedEvent('c1', T0 + 1),
      queuedEvent('c3', T0 + 3),
    ])
      .when(presence('ann', 'online', T0 + 10))
      .then([
        { type: 'PresenceChanged', data: { agentId: 'ann', presence: 'online', at: T0 + 10 } },
        assigned('c1', 'ann', rr('ann'), T0 + 10),
        assigned('c2', 'ann', rr('ann'), T0 + 10),
      ]);
  });

  it('[AS6] assigns the oldest queued conversation when an agent’s load drops', () => {
    given([created(), member('ann', 'online', 1), assigned('c1', 'ann', rr('ann')), queuedEvent('c2')])
      .when({ type: 'ReleaseConversation', data: { conversationId: 'c1', at: T0 + 5 } })
      .then([
        { type: 'ConversationReleased', data: { conversationId: 'c1', agentId: 'ann', at: T0 + 5 } },
        assigned('c2', 'ann', rr('ann'), T0 + 5),
      ]);
  });

  it('[AS6] assigns queued conversations when capacity is raised or a member joins', () => {
    const full = [created(), member('ann', 'online', 1), assigned('c1', 'ann', rr('ann')), queuedEvent('c2')];
    given(full)
      .when({ type: 'SetCapacity', data: { agentId: 'ann', capacity: 2, at: T0 } })
      .then([
        { type: 'CapacityChanged', data: { agentId: 'ann', capacity: 2, at: T0 } },
        assigned('c2', 'ann', rr('ann')),
      ]);
    given(full)
      .when({
        type: 'AddMember',
        data: { agentId: 'bob', weight: 1, capacity: 1, presence: 'online', at: T0 },
      })
      .then([member('bob', 'online', 1), assigned('c2', 'bob', rr('bob'))]);
  });

  it('[AS6] a new request waits behind the queue instead of overtaking it', () => {
    given([created(), member('ann', 'online', 1), assigned('c1', 'ann', rr('ann')), queuedEvent('c2')])
      .when(request('c3', T0 + 1))
      .then([queuedEvent('c3', T0 + 1)]);
  });

  it('[AS6] the queue is drained oldest-first, whatever order the requests arrived in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 12 }),
        (times, capacity) => {
          let state = fold(inbox, null, [created('least-busy'), member('ann', 'offline', capacity)]);
          for (const [i, at] of times.entries())
            state = fold(inbox, state, inbox.decide(request(`c${i}`, T0 + at), state));
          const events = inbox.decide(presence('ann', 'online', T0 + 2_000), state);
          const order = events.flatMap((e) => (e.type === 'AgentAssigned' ? [e.data.conversationId] : []));
          const oldestFirst = times
            .map((at, i) => ({ at, id: `c${i}` }))
            .sort((a, b) => a.at - b.at)
            .map((c) => c.id);
          expect(order).toEqual(oldestFirst.slice(0, capacity));
        },
      ),
    );
  });

  it('[AS7] releasing a queued conversation takes it out of the queue; releasing an unknown one does nothing', () => {
    given([created(), queuedEvent('c1')])
      .when({ type: 'ReleaseConversation', data: { conversationId: 'c1', at: T0 } })
      .then([{ type: 'ConversationDequeued', data: { conversationId: 'c1', at: T0 } }]);
    given([created()])
      .when({ type: 'ReleaseConversation', data: { conversationId: 'c1', at: T0 } })
      .thenNothingHappens();
  });

  it('[AS8] removing a member puts their conversations back in the queue for the others', () => {
    given([
      created(),
      member('ann'),
      member('bob', 'online', 1),
      assigned('c1', 'ann', rr('ann')),
      assigned('c2', 'ann', rr('ann')),
    ])
      .when({ type: 'RemoveMember', data: { agentId: 'ann', at: T0 + 1 } })
      .then([
        { type: 'ConversationReleased', data: { conversationId: 'c1', agentId: 'ann', at: T0 + 1 } },
        { type: 'ConversationReleased', data: { conversationId: 'c2', agentId: 'ann', at: T0 + 1 } },
        { type: 'MemberRemoved', data: { agentId: 'ann', at: T0 + 1 } },
        queuedEvent('c1', T0 + 1),
        queuedEvent('c2', T0 + 1),
        assigned('c1', 'bob', rr('bob'), T0 + 1),
      ]);
  });

  it('[AS9] a manual assignment bypasses policy, presence and capacity, and frees the previous agent', () => {
    const history = [
      created(),
      member('ann', 'online', 1),
      member('bob', 'offline', 0),
      assigned('c1', 'ann', rr('ann')),
      queuedEvent('c2'),
    ];
    given(history)
      .when({ type: 'AssignManually', data: { conversationId: 'c1', agentId: 'bob', at: T0 + 1 } })
      .then([
        { type: 'ConversationReleased', data: { conversationId: 'c1', agentId: 'ann', at: T0 + 1 } },
        {
          type: 'AgentAssigned',
          data: { conversationId: 'c1', agentId: 'bob', manual: true, strategy: rr('ann'), at: T0 + 1 },
        },
        assigned('c2', 'ann', rr('ann'), T0 + 1),
      ]);
    given(history)
      .when({ type: 'AssignManually', data: { conversationId: 'c1', agentId: 'ann', at: T0 } })
      .thenNothingHappens();
    given(history)
      .when({ type: 'AssignManually', data: { conversationId: 'c1', agentId: 'zoe', at: T0 } })
      .thenThrows('MEMBER_NOT_FOUND');
  });

  it('[AS10] weights are whole numbers of 1 or more, capacities of 0 or more', () => {
    const add = (weight: number, capacity: number): InboxCommand => ({
      type: 'AddMember',
      data: { agentId: 'ann', weight, capacity, presence: 'online', at: T0 },
    });
    given([created()]).when(add(0, 1)).thenThrows('WEIGHT_INVALID', 'AS10');
    given([created()]).when(add(1.5, 1)).thenThrows('WEIGHT_INVALID', 'AS10');
    given([created()]).when(add(1, -1)).thenThrows('CAPACITY_INVALID', 'AS10');
    given([created(), member('ann')])
      .when({ type: 'SetCapacity', data: { agentId: 'ann', capacity: Infinity, at: T0 } })
      .thenThrows('CAPACITY_INVALID');
    given([created(), member('ann')])
      .when(add(1, 1))
      .thenThrows('MEMBER_ALREADY_ADDED', 'AS10');
  });

  it('[AS10] member settings that change nothing emit nothing', () => {
    const history = [created(), member('ann', 'online', 2, 3)];
    given(history).when(presence('ann', 'online')).thenNothingHappens();
    given(history)
      .when({ type: 'SetCapacity', data: { agentId: 'ann', capacity: 2, at: T0 } })
      .thenNothingHappens();
    given(history)
      .when({ type: 'SetWeight', data: { agentId: 'ann', weight: 3, at: T0 } })
      .thenNothingHappens();
    given(history)
      .when({ type: 'SetWeight', data: { agentId: 'ann', weight: 4, at: T0 } })
      .then([{ type: 'WeightChanged', data: { agentId: 'ann', weight: 4, at: T0 } }]);
    given(history).when(presence('zoe', 'online')).thenThrows('MEMBER_NOT_FOUND');
  });

  it('[AS11] changing the assignment policy starts the new strategy afresh', () => {
    const state = given([created(), member('ann'), assigned('c1', 'ann', rr('ann'))])
      .when({ type: 'SetAssignmentPolicy', data: { policy: 'weighted', at: T0 } })
      .then([{ type: 'AssignmentPolicyChanged', data: { policy: 'weighted', at: T0 } }]);
    expect(state?.strategy).toEqual({ kind: 'weighted', current: {} });
    given([created()])
      .when({ type: 'SetAssignmentPolicy', data: { policy: 'round-robin', at: T0 } })
      .thenNothingHappens();
  });

  it('[AS12] an inbox is created once, and every other command needs it', () => {
    const create: InboxCommand = {
      type: 'CreateInbox',
      data: {
        inboxId: 'inbox-1',
        name: 'Sales',
        channel: { platform: 'telegram', channelId: 'bot' },
        policy: 'weighted',
        at: T0,
      },
    };
    given([created()]).when(create).thenThrows('INBOX_ALREADY_EXISTS');
    given([]).when(request('c1')).thenThrows('INBOX_NOT_FOUND');
  });

  it('[AS1] automatic assignment never goes to an away, offline or full member, whatever happens in between', () => {
    const agents = ['ann', 'bob', 'cem'];
    const command = fc.oneof(
      fc.integer({ min: 0, max: 9 }).map((n) => request(`c${n}`)),
      fc.integer({ min: 0, max: 9 }).map((n): InboxCommand => ({
        type: 'ReleaseConversation',
        data: { conversationId: `c${n}`, at: T0 },
      })),
      fc
        .tuple(fc.constantFrom(...agents), fc.constantFrom<Presence>('online', 'busy', 'offline'))
        .map(([a, p]) => presence(a, p)),
      fc
        .tuple(fc.constantFrom(...agents), fc.integer({ min: 0, max: 3 }))
        .map(([agentId, capacity]): InboxCommand => ({
          type: 'SetCapacity',
          data: { agentId, capacity, at: T0 },
        })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<AssignmentPolicy>('round-robin', 'weighted', 'least-busy'),
        fc.array(command, { maxLength: 40 }),
        (policy, commands) => {
          let state = fold(inbox, null, [
            created(policy),
            member('ann', 'online', 1),
            member('bob', 'busy', 2, 3),
            member('cem', 'offline', 3, 2),
          ]);
          for (const cmd of commands) {
            for (const event of inbox.decide(cmd, state)) {
              if (event.type === 'AgentAssigned' && state) {
                const chosen = agentLoads(state).find((a) => a.agentId === event.data.agentId);
                expect(chosen && canTake(chosen)).toBe(true);
              }
              state = inbox.evolve(state, event);
            }
            if (state && state.queue.length > 0) expect(agentLoads(state).some(canTake)).toBe(false);
          }
        },
      ),
    );
  });
});
