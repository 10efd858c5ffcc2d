import type {
  InboundContent,
  MessageTag,
  MessageTemplate,
  Platform,
  ReplyContent,
} from '../platforms/policy';
import type { AssignmentPolicy } from '../inbox/assignment';
import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';

/**
 * A customer as their channel names them. `email` and `page` come from a web-chat visitor's page
 * (the e-mail a site or pre-chat form gave, the page they wrote from); other channels leave them out.
 */
export type Contact = { id: string; name: string; handle: string; email?: string; page?: string };
export type Priority = 'none' | 'low' | 'medium' | 'high' | 'urgent';
/** Where a conversation stands; `snoozed` carries when it wakes up. */
export type ConversationStatus =
  { kind: 'open' } | { kind: 'pending' } | { kind: 'snoozed'; until: EpochMs } | { kind: 'resolved' };
/** Why the status changed: an agent's command, a customer's message, or a snooze that ran out. */
export type StatusReason = 'agent' | 'customer-message' | 'snooze-ended';
/** A reply's progress: queued < sending < sent < delivered < read, or failed (final). */
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

export const ConversationErrorCode = {
  CONVERSATION_NOT_FOUND: 'CONVERSATION_NOT_FOUND',
  PLATFORM_MISMATCH: 'PLATFORM_MISMATCH',
  REPLY_NOT_FOUND: 'REPLY_NOT_FOUND',
  SNOOZE_NOT_IN_FUTURE: 'SNOOZE_NOT_IN_FUTURE',
  NOTE_EMPTY: 'NOTE_EMPTY',
  LABEL_EMPTY: 'LABEL_EMPTY',
  CONTENT_INVALID: 'CONTENT_INVALID',
  ASSIGNEE_NOT_MEMBER: 'ASSIGNEE_NOT_MEMBER',
} as const;
export type ConversationErrorCode = (typeof ConversationErrorCode)[keyof typeof ConversationErrorCode];

// Commands

export type ReceiveInboundMessage = DomainCommand<
  'ReceiveInboundMessage',
  {
    conversationId: string;
    inboxId: string;
    platform: Platform;
    externalMessageId: string;
    contact: Contact;
    content: InboundContent;
    /** The platform's timestamp: when the customer sent it. */
    sentAt: EpochMs;
  }
>;
export type QueueReply = DomainCommand<
  'QueueReply',
  {
    clientMessageId: string;
    agentId: string;
    content: ReplyContent;
    tag: MessageTag | null;
    now: EpochMs;
    templates: readonly MessageTemplate[];
  }
>;
export type MarkReplySending = DomainCommand<'MarkReplySending', { clientMessageId: string; now: EpochMs }>;
export type MarkReplySent = DomainCommand<
  'MarkReplySent',
  { clientMessageId: string; platformMessageId: string; at: EpochMs }
>;
export type MarkReplyFailed = DomainCommand<
  'MarkReplyFailed',
  { clientMessageId: string; reason: string; at: EpochMs }
>;
/** A platform's delivery receipt, which names the platform's message id. */
export type RecordDeliveryStatus = DomainCommand<
  'RecordDeliveryStatus',
  { platformMessageId: string; status: 'delivered' | 'read'; at: EpochMs }
>;
export type AddNote = DomainCommand<
  'AddNote',
  { noteId: string; agentId: string; text: string; mentions: readonly string[]; at: EpochMs }
>;
export type AddLabel = DomainCommand<'AddLabel', { label: string; at: EpochMs }>;
export type RemoveLabel = DomainCommand<'RemoveLabel', { label: string; at: EpochMs }>;
/**
 * `members`, when given, are the agent ids of the conversation's inbox: an assignee outside it is
 * refused (rule CV16). A device that does not know the members leaves it out; the server never does.
 * `policy` names the inbox's assignment policy when it chose the agent (AC3), absent when a person did.
 */
export type AssignConversation = DomainCommand<
  'AssignConversation',
  { agentId: string; at: EpochMs; members?: readonly string[]; policy?: AssignmentPolicy }
>;
export type UnassignConversation = DomainCommand<'UnassignConversation', { at: EpochMs }>;
export type SetStatus = DomainCommand<'SetStatus', { status: 'open' | 'pending' | 'resolved'; at: EpochMs }>;
export type SnoozeConversation = DomainCommand<'SnoozeConversation', { until: EpochMs; now: EpochMs }>;
/** Sent by a scheduler (or any client) once it believes the snooze has run out. */
export type WakeConversation = DomainCommand<'WakeConversation', { now: EpochMs }>;
export type SetPriority = DomainCommand<'SetPriority', { priority: Priority; at: EpochMs }>;
/** An agent has seen the conversation up to `upTo` (the time of the latest message they saw). */
export type MarkConversationRead = DomainCommand<
  'MarkConversationRead',
  { agentId: string; upTo: EpochMs; at: EpochMs }
>;

export type ConversationCommand =
  | ReceiveInboundMessage
  | QueueReply
  | MarkReplySending
  | MarkReplySent
  | MarkReplyFailed
  | RecordDeliveryStatus
  | AddNote
  | AddLabel
  | RemoveLabel
  | AssignConversation
  | UnassignConversation
  | SetStatus
  | SnoozeConversation
  | WakeConversation
  | SetPriority
  | MarkConversationRead;

// Events

export type ConversationStarted = DomainEvent<
  'ConversationStarted',
  { conversationId: string; inboxId: string; platform: Platform; contact: Contact; at: EpochMs }
>;
export type CycleStarted = DomainEvent<'CycleStarted', { cycle: number; at: EpochMs }>;
export type CycleEnded = DomainEvent<'CycleEnded', { cycle: number; at: EpochMs }>;
export type InboundMessageReceived = DomainEvent<
  'InboundMessageReceived',
  { externalMessageId: string; contact: Contact; content: InboundContent; sentAt: EpochMs }
>;
export type ReplyQueued = DomainEvent<
  'ReplyQueued',
  {
    clientMessageId: string;
    agentId: string;
    content: ReplyContent;
    tag: MessageTag | null;
    queuedAt: EpochMs;
  }
>;
export type ReplySending = DomainEvent<'ReplySending', { clientMessageId: string; at: EpochMs }>;
export type ReplySent = DomainEvent<
  'ReplySent',
  { clientMessageId: string; platformMessageId: string; at: EpochMs }
>;
/**
 * `reason` is a code: a platform error code, or a refusal code such as `WINDOW_CLOSED`; a refusal
 * by the rules (CV6) also names its `rule` and the policy's `hint`.
 */
export type ReplyFailed = DomainEvent<
  'ReplyFailed',
  { clientMessageId: string; reason: string; at: EpochMs; rule?: string; hint?: string }
>;
export type ReplyDelivered = DomainEvent<'ReplyDelivered', { clientMessageId: string; at: EpochMs }>;
export type ReplyRead = DomainEvent<'ReplyRead', { clientMessageId: string; at: EpochMs }>;
export type NoteAdded = DomainEvent<
  'NoteAdded',
  { noteId: string; agentId: string; text: string; mentions: string[]; at: EpochMs }
>;
export type LabelAdded = DomainEvent<'LabelAdded', { label: string; at: EpochMs }>;
export type LabelRemoved = DomainEvent<'LabelRemoved', { label: string; at: EpochMs }>;
/** `policy`: the inbox's assignment policy chose the agent (AC3); absent when a person did. */
export type ConversationAssigned = DomainEvent<
  'ConversationAssigned',
  { agentId: string; at: EpochMs; policy?: AssignmentPolicy }
>;
export type ConversationUnassigned = DomainEvent<'ConversationUnassigned', { agentId: string; at: EpochMs }>;
export type StatusChanged = DomainEvent<
  'StatusChanged',
  { status: ConversationStatus; reason: StatusReason; at: EpochMs }
>;
export type PriorityChanged = DomainEvent<'PriorityChanged', { priority: Priority; at: EpochMs }>;
/** One agent's read mark moved forward (rule CV15): per agent, never back. */
export type ConversationRead = DomainEvent<
  'ConversationRead',
  { agentId: string; upTo: EpochMs; at: EpochMs }
>;

export type ConversationEvent =
  | ConversationStarted
  | CycleStarted
  | CycleEnded
  | InboundMessageReceived
  | ReplyQueued
  | ReplySending
  | ReplySent
  | ReplyFailed
  | ReplyDelivered
  | ReplyRead
  | NoteAdded
  | LabelAdded
  | LabelRemoved
  | ConversationAssigned
  | ConversationUnassigned
  | StatusChanged
  | PriorityChanged
  | ConversationRead;

// State

/** One of our replies as the conversation tracks it, keyed by its client message id. */
export type Reply = {
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  readonly status: DeliveryStatus;
  readonly platformMessageId: string | null;
  readonly failureReason: string | null;
  readonly queuedAt: EpochMs;
  /** How many customer messages had arrived when it was queued: replies with the current count answer the latest. */
  readonly turn: number;
};

export type Conversation = {
  readonly conversationId: string;
  readonly inboxId: string;
  readonly platform: Platform;
  readonly contact: Contact;
  readonly status: ConversationStatus;
  readonly cycle: number;
  /** The customer's latest platform timestamp: where the platform's reply window starts. */
  readonly lastCustomerMessageAt: EpochMs;
  readonly customerMessages: number;
  /** When we first answered the customer's latest message; null while the customer waits on us. */
  readonly awaitingCustomerSince: EpochMs | null;
  readonly externalMessageIds: ReadonlySet<string>;
  readonly replies: ReadonlyMap<string, Reply>;
  /** Platform message id -> client message id, for delivery receipts. */
  readonly platformMessageIds: ReadonlyMap<string, string>;
  readonly noteIds: ReadonlySet<string>;
  readonly labels: readonly string[];
  readonly assigneeId: string | null;
  readonly priority: Priority;
  /** Agent id -> up to when they have read the conversation (rule CV15). */
  readonly readUpTo: ReadonlyMap<string, EpochMs>;
};

/** Null until the first customer message starts the conversation. */
export type ConversationState = Conversation | null;
