import type { Platform } from '../platforms/policy';
import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';
import type { AssignmentPolicy, Presence, StrategyState } from './assignment';

export type Channel = { platform: Platform; channelId: string };

export const InboxErrorCode = {
  INBOX_NOT_FOUND: 'INBOX_NOT_FOUND',
  INBOX_ALREADY_EXISTS: 'INBOX_ALREADY_EXISTS',
  MEMBER_NOT_FOUND: 'MEMBER_NOT_FOUND',
  MEMBER_ALREADY_ADDED: 'MEMBER_ALREADY_ADDED',
  WEIGHT_INVALID: 'WEIGHT_INVALID',
  CAPACITY_INVALID: 'CAPACITY_INVALID',
} as const;
export type InboxErrorCode = (typeof InboxErrorCode)[keyof typeof InboxErrorCode];

// Commands

export type CreateInbox = DomainCommand<
  'CreateInbox',
  { inboxId: string; name: string; channel: Channel; policy: AssignmentPolicy; at: EpochMs }
>;
export type AddMember = DomainCommand<
  'AddMember',
  { agentId: string; weight: number; capacity: number; presence: Presence; at: EpochMs }
>;
export type RemoveMember = DomainCommand<'RemoveMember', { agentId: string; at: EpochMs }>;
export type SetPresence = DomainCommand<'SetPresence', { agentId: string; presence: Presence; at: EpochMs }>;
export type SetCapacity = DomainCommand<'SetCapacity', { agentId: string; capacity: number; at: EpochMs }>;
export type SetWeight = DomainCommand<'SetWeight', { agentId: string; weight: number; at: EpochMs }>;
export type SetAssignmentPolicy = DomainCommand<
  'SetAssignmentPolicy',
  { policy: AssignmentPolicy; at: EpochMs }
>;
/** Asks the inbox's policy for an agent; queues the conversation when nobody can take it. */
export type RequestAssignment = DomainCommand<'RequestAssignment', { conversationId: string; at: EpochMs }>;
/** A supervisor's choice: bypasses the policy, presence and capacity. */
export type AssignManually = DomainCommand<
  'AssignManually',
  { conversationId: string; agentId: string; at: EpochMs }
>;
/** The conversation no longer needs an agent here (resolved, moved away): its agent's load drops. */
export type ReleaseConversation = DomainCommand<
  'ReleaseConversation',
  { conversationId: string; at: EpochMs }
>;

export type InboxCommand =
  | CreateInbox
  | AddMember
  | RemoveMember
  | SetPresence
  | SetCapacity
  | SetWeight
  | SetAssignmentPolicy
  | RequestAssignment
  | AssignManually
  | ReleaseConversation;

// Events

export type InboxCreated = DomainEvent<
  'InboxCreated',
  { inboxId: string; name: string; channel: Channel; policy: AssignmentPolicy; at: EpochMs }
>;
export type MemberAdded = DomainEvent<
  'MemberAdded',
  { agentId: string; weight: number; capacity: number; presence: Presence; at: EpochMs }
>;
export type MemberRemoved = DomainEvent<'MemberRemoved', { agentId: string; at: EpochMs }>;
export type PresenceChanged = DomainEvent<
  'PresenceChanged',
  { agentId: string; presence: Presence; at: EpochMs }
>;
export type CapacityChanged = DomainEvent<
  'CapacityChanged',
  { agentId: string; capacity: number; at: EpochMs }
>;
export type WeightChanged = DomainEvent<'WeightChanged', { agentId: string; weight: number; at: EpochMs }>;
export type AssignmentPolicyChanged = DomainEvent<
  'AssignmentPolicyChanged',
  { policy: AssignmentPolicy; at: EpochMs }
>;
export type ConversationQueued = DomainEvent<'ConversationQueued', { conversationId: string; at: EpochMs }>;
/** `strategy` is the strategy's state after the pick, so replays never re-run the algorithm. */
export type AgentAssigned = DomainEvent<
  'AgentAssigned',
  { conversationId: string; agentId: string; manual: boolean; strategy: StrategyState; at: EpochMs }
>;
export type ConversationReleased = DomainEvent<
  'ConversationReleased',
  { conversationId: string; agentId: string; at: EpochMs }
>;
export type ConversationDequeued = DomainEvent<
  'ConversationDequeued',
  { conversationId: string; at: EpochMs }
>;

export type InboxEvent =
  | InboxCreated
  | MemberAdded
  | MemberRemoved
  | PresenceChanged
  | CapacityChanged
  | WeightChanged
  | AssignmentPolicyChanged
  | ConversationQueued
  | AgentAssigned
  | ConversationReleased
  | ConversationDequeued;

// State

export type Member = {
  readonly agentId: string;
  readonly weight: number;
  readonly capacity: number;
  readonly presence: Presence;
  readonly lastAssignedAt: EpochMs | null;
};

export type QueuedConversation = { readonly conversationId: string; readonly queuedAt: EpochMs };

export type Inbox = {
  readonly inboxId: string;
  readonly name: string;
  readonly channel: Channel;
  readonly policy: AssignmentPolicy;
  readonly strategy: StrategyState;
  /** In the order they joined: round-robin's order. */
  readonly members: readonly Member[];
  /** Oldest first. */
  readonly queue: readonly QueuedConversation[];
  /** Conversation id -> agent id: each agent's load is their count here. */
  readonly assignments: ReadonlyMap<string, string>;
};

/** Null until CreateInbox. */
export type InboxState = Inbox | null;
