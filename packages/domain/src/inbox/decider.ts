import { assertNever } from '../shared/command';
import { fold, type Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import type { EpochMs } from '../shared/ids';
import { chooseAgent, initialStrategyState, type AgentLoad, type Presence } from './assignment';
import {
  InboxErrorCode,
  type Inbox,
  type InboxCommand,
  type InboxEvent,
  type InboxState,
  type Member,
} from './types';

export function initialState(): InboxState {
  return null;
}

export function decide(command: InboxCommand, state: InboxState): InboxEvent[] {
  if (command.type === 'CreateInbox') {
    if (state) refuse(InboxErrorCode.INBOX_ALREADY_EXISTS, `inbox ${state.inboxId} already exists`, 'AS12');
    const { inboxId, name, channel, policy, at } = command.data;
    return [{ type: 'InboxCreated', data: { inboxId, name, channel, policy, at } }];
  }
  const inbox = existing(state);
  switch (command.type) {
    case 'AddMember': {
      const { agentId, weight, capacity, presence, at } = command.data;
      if (memberOf(inbox, agentId)) {
        refuse(InboxErrorCode.MEMBER_ALREADY_ADDED, `agent ${agentId} is already a member`, 'AS10');
      }
      checkWeight(weight);
      checkCapacity(capacity);
      return drain(inbox, [{ type: 'MemberAdded', data: { agentId, weight, capacity, presence, at } }], at);
    }
    case 'RemoveMember': {
      const { agentId, at } = command.data;
      requireMember(inbox, agentId);
      const theirs = [...inbox.assignments].filter(([, agent]) => agent === agentId).map(([id]) => id);
      return drain(
        inbox,
        [
          ...theirs.map((conversationId): InboxEvent => ({
            type: 'ConversationReleased',
            data: { conversationId, agentId, at },
          })),
          { type: 'MemberRemoved', data: { agentId, at } },
          ...theirs.map((conversationId): InboxEvent => ({
            type: 'ConversationQueued',
            data: { conversationId, at },
          })),
        ],
        at,
      );
    }
    case 'SetPresence': {
      const { agentId, presence, at } = command.data;
      if (requireMember(inbox, agentId).presence === presence) return [];
      return drain(inbox, [{ type: 'PresenceChanged', data: { agentId, presence, at } }], at);
    }
    case 'SetCapacity': {
      const { agentId, capacity, at } = command.data;
      checkCapacity(capacity);
      if (requireMember(inbox, agentId).capacity === capacity) return [];
      return drain(inbox, [{ type: 'CapacityChanged', data: { agentId, capacity, at } }], at);
    }
    case 'SetWeight': {
      const { agentId, weight, at } = command.data;
      checkWeight(weight);
      if (requireMember(inbox, agentId).weight === weight) return [];
      return [{ type: 'WeightChanged', data: { agentId, weight, at } }];
    }
    case 'SetAssignmentPolicy': {
      const { policy, at } = command.data;
      return policy === inbox.policy ? [] : [{ type: 'AssignmentPolicyChanged', data: { policy, at } }];
    }
    case 'RequestAssignment': {
      const { conversationId, at } = command.data;
      if (inbox.assignments.has(conversationId) || isQueued(inbox, conversationId)) return [];
      if (inbox.queue.length === 0) {
        const { agentId, state: strategy } = chooseAgent(agentLoads(inbox), inbox.strategy);
        if (agentId !== null) {
          return [{ type: 'AgentAssigned', data: { conversationId, agentId, manual: false, strategy, at } }];
        }
      }
      // Behind a non-empty queue the newcomer waits its turn: it never overtakes older conversations.
      return drain(inbox, [{ type: 'ConversationQueued', data: { conversationId, at } }], at);
    }
    case 'AssignManually': {
      const { conversationId, agentId, at } = command.data;
      requireMember(inbox, agentId);
      const previous = inbox.assignments.get(conversationId);
      if (previous === agentId) return [];
      const assigned: InboxEvent = {
        type: 'AgentAssigned',
        data: { conversationId, agentId, manual: true, strategy: inbox.strategy, at },
      };
      if (previous === undefined) return [assigned];
      return drain(
        inbox,
        [{ type: 'ConversationReleased', data: { conversationId, agentId: previous, at } }, assigned],
        at,
      );
    }
    case 'ReleaseConversation': {
      const { conversationId, at } = command.data;
      const agentId = inbox.assignments.get(conversationId);
      if (agentId !== undefined) {
        return drain(inbox, [{ type: 'ConversationReleased', data: { conversationId, agentId, at } }], at);
      }
      return isQueued(inbox, conversationId)
        ? [{ type: 'ConversationDequeued', data: { conversationId, at } }]
        : [];
    }
    default:
      return assertNever(command);
  }
}

/** AS13: events recorded before busy existed say `away`, which meant the same: not taking conversations. */
function recordedPresence(presence: string): Presence {
  return presence === 'online' || presence === 'offline' ? presence : 'busy';
}

export function evolve(state: InboxState, event: InboxEvent): InboxState {
  if (event.type === 'InboxCreated') {
    const { inboxId, name, channel, policy } = event.data;
    const strategy = initialStrategyState(policy);
    return { inboxId, name, channel, policy, strategy, members: [], queue: [], assignments: new Map() };
  }
  if (!state) return state;
  switch (event.type) {
    case 'MemberAdded': {
      const { agentId, weight, capacity } = event.data;
      const presence = recordedPresence(event.data.presence);
      return {
        ...state,
        members: [...state.members, { agentId, weight, capacity, presence, lastAssignedAt: null }],
      };
    }
    case 'MemberRemoved':
      return { ...state, members: state.members.filter((member) => member.agentId !== event.data.agentId) };
    case 'PresenceChanged':
      return withMember(state, event.data.agentId, { presence: recordedPresence(event.data.presence) });
    case 'CapacityChanged':
      return withMember(state, event.data.agentId, { capacity: event.data.capacity });
    case 'WeightChanged':
      return withMember(state, event.data.agentId, { weight: event.data.weight });
    case 'AssignmentPolicyChanged':
      return { ...state, policy: event.data.policy, strategy: initialStrategyState(event.data.policy) };
    case 'ConversationQueued': {
      const { conversationId, at } = event.data;
      // Kept sorted by queue time (stable), so a request made offline earlier still counts as older.
      const after = state.queue.findIndex((queued) => queued.queuedAt > at);
      const queue = [...state.queue];
      queue.splice(after === -1 ? queue.length : after, 0, { conversationId, queuedAt: at });
      return { ...state, queue };
    }
    case 'AgentAssigned': {
      const { conversationId, agentId, strategy, at } = event.data;
      return {
        ...withMember(state, agentId, { lastAssignedAt: at }),
        strategy,
        queue: state.queue.filter((queued) => queued.conversationId !== conversationId),
        assignments: new Map(state.assignments).set(conversationId, agentId),
      };
    }
    case 'ConversationReleased': {
      const assignments = new Map(state.assignments);
      assignments.delete(event.data.conversationId);
      return { ...state, assignments };
    }
    case 'ConversationDequeued':
      return {
        ...state,
        queue: state.queue.filter((queued) => queued.conversationId !== event.data.conversationId),
      };
    default:
      return assertNever(event);
  }
}

/** The inbox aggregate (stream category `inbox`): members, presence, load and the assignment queue. */
export const inbox: Decider<InboxCommand, InboxState, InboxEvent> = { decide, evolve, initialState };

/** Each member with their current load, in member order: the strategies' input. */
export function agentLoads(inbox: Inbox): AgentLoad[] {
  const loads = new Map<string, number>();
  for (const agentId of inbox.assignments.values()) loads.set(agentId, (loads.get(agentId) ?? 0) + 1);
  return inbox.members.map((member) => ({ ...member, load: loads.get(member.agentId) ?? 0 }));
}

/** Appends to `events` an assignment for each queued conversation, oldest first, while someone can take one. */
function drain(inbox: Inbox, events: InboxEvent[], at: EpochMs): InboxEvent[] {
  let state = fold({ evolve }, inbox, events) ?? inbox;
  const out = [...events];
  for (let next = state.queue[0]; next; next = state.queue[0]) {
    const { agentId, state: strategy } = chooseAgent(agentLoads(state), state.strategy);
    if (agentId === null) break;
    const assigned: InboxEvent = {
      type: 'AgentAssigned',
      data: { conversationId: next.conversationId, agentId, manual: false, strategy, at },
    };
    out.push(assigned);
    state = evolve(state, assigned) ?? state;
  }
  return out;
}

function existing(state: InboxState): Inbox {
  if (!state) refuse(InboxErrorCode.INBOX_NOT_FOUND, 'the inbox does not exist', 'AS12');
  return state;
}

function memberOf(inbox: Inbox, agentId: string): Member | undefined {
  return inbox.members.find((member) => member.agentId === agentId);
}

function requireMember(inbox: Inbox, agentId: string): Member {
  const member = memberOf(inbox, agentId);
  if (!member) {
    refuse(InboxErrorCode.MEMBER_NOT_FOUND, `agent ${agentId} is not a member of this inbox`, 'AS10');
  }
  return member;
}

function isQueued(inbox: Inbox, conversationId: string): boolean {
  return inbox.queue.some((queued) => queued.conversationId === conversationId);
}

function checkWeight(weight: number): void {
  if (!Number.isInteger(weight) || weight < 1) {
    refuse(
      InboxErrorCode.WEIGHT_INVALID,
      `weight ${weight} is invalid: use a whole number of 1 or more`,
      'AS10',
    );
  }
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 0) {
    refuse(
      InboxErrorCode.CAPACITY_INVALID,
      `capacity ${capacity} is invalid: use a whole number of 0 or more`,
      'AS10',
    );
  }
}

function withMember(state: Inbox, agentId: string, change: Partial<Member>): Inbox {
  return {
    ...state,
    members: state.members.map((member) => (member.agentId === agentId ? { ...member, ...change } : member)),
  };
}
