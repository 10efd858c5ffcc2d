import { policyFor } from '../platforms/policies';
import { checkWindow, effectiveTag, validateReply, type ReplyCheck } from '../platforms/policy';
import { assertNever } from '../shared/command';
import type { Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import type { EpochMs } from '../shared/ids';
import { checkInboundContent } from './content';
import {
  ConversationErrorCode,
  type Conversation,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type ConversationStatus,
  type ReceiveInboundMessage,
  type RecordDeliveryStatus,
  type Reply,
  type StatusReason,
} from './types';

export function initialState(): ConversationState {
  return null;
}

export function decide(command: ConversationCommand, state: ConversationState): ConversationEvent[] {
  if (command.type === 'ReceiveInboundMessage') return receive(command.data, state);
  const conversation = existing(state);
  switch (command.type) {
    case 'QueueReply': {
      const { clientMessageId, agentId, content, tag, now, templates } = command.data;
      if (conversation.replies.has(clientMessageId)) return [];
      const policy = policyFor(conversation.platform);
      const lastCustomerMessageAt = conversation.lastCustomerMessageAt;
      const check = validateReply(policy, { content, tag, lastCustomerMessageAt, now, templates });
      if (!check.ok) refuse(check.code, check.message, check.rule, check.hint);
      const data = { clientMessageId, agentId, content, tag: effectiveTag(policy, tag), queuedAt: now };
      // CV17: answering a resolved conversation reopens it (a new cycle) before the reply.
      const reopen =
        conversation.status.kind === 'resolved'
          ? changeStatus(conversation, { kind: 'open' }, 'agent', now)
          : [];
      return [...reopen, { type: 'ReplyQueued', data }];
    }
    case 'MarkReplySending': {
      const { clientMessageId, now } = command.data;
      const reply = replyOf(conversation, clientMessageId);
      if (reply.status !== 'queued') return [];
      // A reply queued offline may have crossed the window's end before it reached the dispatcher.
      const check = checkReplyWindow(conversation, reply, now);
      if (!check.ok) {
        const { code: reason, rule, hint } = check;
        return [{ type: 'ReplyFailed', data: { clientMessageId, reason, at: now, rule, hint } }];
      }
      return [{ type: 'ReplySending', data: { clientMessageId, at: now } }];
    }
    case 'MarkReplySent': {
      const { clientMessageId, platformMessageId, at } = command.data;
      const { status } = replyOf(conversation, clientMessageId);
      if (status !== 'queued' && status !== 'sending') return [];
      return [{ type: 'ReplySent', data: { clientMessageId, platformMessageId, at } }];
    }
    case 'MarkReplyFailed': {
      const { clientMessageId, reason, at } = command.data;
      const { status } = replyOf(conversation, clientMessageId);
      if (status !== 'queued' && status !== 'sending' && status !== 'sent') return [];
      return [{ type: 'ReplyFailed', data: { clientMessageId, reason, at } }];
    }
    case 'RecordDeliveryStatus':
      return recordDelivery(conversation, command.data);
    case 'AddNote': {
      const { noteId, agentId, text, mentions, at } = command.data;
      if (conversation.noteIds.has(noteId)) return [];
      if (text.trim() === '') refuse(ConversationErrorCode.NOTE_EMPTY, 'a note needs some text', 'CV7');
      return [{ type: 'NoteAdded', data: { noteId, agentId, text, mentions: [...new Set(mentions)], at } }];
    }
    case 'AddLabel': {
      const label = labelOf(command.data.label);
      return conversation.labels.includes(label)
        ? []
        : [{ type: 'LabelAdded', data: { label, at: command.data.at } }];
    }
    case 'RemoveLabel': {
      const label = labelOf(command.data.label);
      return conversation.labels.includes(label)
        ? [{ type: 'LabelRemoved', data: { label, at: command.data.at } }]
        : [];
    }
    case 'AssignConversation': {
      const { agentId, at, members, policy } = command.data;
      if (members && !members.includes(agentId)) {
        const message = `agent ${agentId} is not a member of this conversation's inbox`;
        refuse(ConversationErrorCode.ASSIGNEE_NOT_MEMBER, message, 'CV16', 'assign a member of the inbox');
      }
      if (conversation.assigneeId === agentId) return [];
      // AC3: the policy that chose is part of the fact; a person's choice names none.
      return [{ type: 'ConversationAssigned', data: policy ? { agentId, at, policy } : { agentId, at } }];
    }
    case 'UnassignConversation': {
      const agentId = conversation.assigneeId;
      return agentId === null
        ? []
        : [{ type: 'ConversationUnassigned', data: { agentId, at: command.data.at } }];
    }
    case 'SetStatus': {
      const { status, at } = command.data;
      if (conversation.status.kind === status) return [];
      return changeStatus(conversation, { kind: status }, 'agent', at);
    }
    case 'SnoozeConversation': {
      const { until, now } = command.data;
      if (until <= now) {
        const message = 'a conversation can only be snoozed until a later time';
        refuse(ConversationErrorCode.SNOOZE_NOT_IN_FUTURE, message, 'CV10');
      }
      const { status } = conversation;
      if (status.kind === 'snoozed' && status.until === until) return [];
      return changeStatus(conversation, { kind: 'snoozed', until }, 'agent', now);
    }
    case 'WakeConversation': {
      const { status } = conversation;
      if (status.kind !== 'snoozed' || command.data.now < status.until) return [];
      return changeStatus(conversation, { kind: 'open' }, 'snooze-ended', command.data.now);
    }
    case 'SetPriority': {
      const { priority, at } = command.data;
      return conversation.priority === priority ? [] : [{ type: 'PriorityChanged', data: { priority, at } }];
    }
    case 'MarkConversationRead': {
      const { agentId, upTo, at } = command.data;
      const current = conversation.readUpTo.get(agentId);
      if (current !== undefined && upTo <= current) return [];
      return [{ type: 'ConversationRead', data: { agentId, upTo, at } }];
    }
    default:
      return assertNever(command);
  }
}

export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  if (event.type === 'ConversationStarted') {
    const { conversationId, inboxId, platform, contact, at } = event.data;
    return {
      conversationId,
      inboxId,
      platform,
      contact,
      status: { kind: 'open' },
      cycle: 0,
      lastCustomerMessageAt: at,
      customerMessages: 0,
      awaitingCustomerSince: null,
      externalMessageIds: new Set(),
      replies: new Map(),
      platformMessageIds: new Map(),
      noteIds: new Set(),
      labels: [],
      assigneeId: null,
      priority: 'none',
      readUpTo: new Map(),
    };
  }
  if (!state) return state;
  switch (event.type) {
    case 'CycleStarted':
      return { ...state, cycle: event.data.cycle };
    case 'CycleEnded':
      return state;
    case 'InboundMessageReceived': {
      const { externalMessageId, contact, sentAt } = event.data;
      return {
        ...state,
        contact,
        lastCustomerMessageAt: Math.max(state.lastCustomerMessageAt, sentAt),
        customerMessages: state.customerMessages + 1,
        awaitingCustomerSince: null,
        externalMessageIds: new Set(state.externalMessageIds).add(externalMessageId),
      };
    }
    case 'ReplyQueued': {
      const { clientMessageId, content, tag, queuedAt } = event.data;
      const reply: Reply = {
        content,
        tag,
        status: 'queued',
        platformMessageId: null,
        failureReason: null,
        queuedAt,
        turn: state.customerMessages,
      };
      return withReplies(state, new Map(state.replies).set(clientMessageId, reply));
    }
    case 'ReplySending':
      return withReply(state, event.data.clientMessageId, { status: 'sending' });
    case 'ReplySent': {
      const { clientMessageId, platformMessageId } = event.data;
      const next = withReply(state, clientMessageId, { status: 'sent', platformMessageId });
      return {
        ...next,
        platformMessageIds: new Map(state.platformMessageIds).set(platformMessageId, clientMessageId),
      };
    }
    case 'ReplyFailed':
      return withReply(state, event.data.clientMessageId, {
        status: 'failed',
        failureReason: event.data.reason,
      });
    case 'ReplyDelivered':
      return withReply(state, event.data.clientMessageId, { status: 'delivered' });
    case 'ReplyRead':
      return withReply(state, event.data.clientMessageId, { status: 'read' });
    case 'NoteAdded':
      return { ...state, noteIds: new Set(state.noteIds).add(event.data.noteId) };
    case 'LabelAdded':
      return { ...state, labels: [...state.labels, event.data.label] };
    case 'LabelRemoved':
      return { ...state, labels: state.labels.filter((label) => label !== event.data.label) };
    case 'ConversationAssigned':
      return { ...state, assigneeId: event.data.agentId };
    case 'ConversationUnassigned':
      return { ...state, assigneeId: null };
    case 'StatusChanged':
      return { ...state, status: event.data.status };
    case 'PriorityChanged':
      return { ...state, priority: event.data.priority };
    case 'ConversationRead': {
      const { agentId, upTo } = event.data;
      const current = state.readUpTo.get(agentId);
      if (current !== undefined && upTo <= current) return state;
      return { ...state, readUpTo: new Map(state.readUpTo).set(agentId, upTo) };
    }
    default:
      return assertNever(event);
  }
}

/** The conversation aggregate (stream category `conversation`). */
export const conversation: Decider<ConversationCommand, ConversationState, ConversationEvent> = {
  decide,
  evolve,
  initialState,
};

/**
 * Re-checks a queued reply's window at `now` (CV6, through `MarkReplySending` only): a reply queued
 * offline may have crossed the platform's window before it could be sent.
 */
export function checkReplyWindow(
  conversation: Conversation,
  reply: Pick<Reply, 'content' | 'tag'>,
  now: EpochMs,
): ReplyCheck {
  return checkWindow(policyFor(conversation.platform), {
    content: reply.content,
    tag: reply.tag,
    lastCustomerMessageAt: conversation.lastCustomerMessageAt,
    now,
  });
}

function receive(data: ReceiveInboundMessage['data'], state: ConversationState): ConversationEvent[] {
  const { conversationId, inboxId, platform, externalMessageId, contact, content, sentAt } = data;
  checkInboundContent(content);
  const received: ConversationEvent = {
    type: 'InboundMessageReceived',
    data: { externalMessageId, contact, content, sentAt },
  };
  if (!state) {
    return [
      { type: 'ConversationStarted', data: { conversationId, inboxId, platform, contact, at: sentAt } },
      { type: 'CycleStarted', data: { cycle: 1, at: sentAt } },
      received,
    ];
  }
  if (state.externalMessageIds.has(externalMessageId)) return [];
  if (platform !== state.platform) {
    refuse(
      ConversationErrorCode.PLATFORM_MISMATCH,
      `a ${state.platform} conversation cannot receive a ${platform} message`,
      'CV2',
    );
  }
  const reopen =
    state.status.kind === 'open' ? [] : changeStatus(state, { kind: 'open' }, 'customer-message', sentAt);
  return [...reopen, received];
}

/** The status change plus the cycle boundary it implies: resolving ends a cycle, leaving resolved starts one. */
function changeStatus(
  conversation: Conversation,
  status: ConversationStatus,
  reason: StatusReason,
  at: EpochMs,
): ConversationEvent[] {
  const changed: ConversationEvent = { type: 'StatusChanged', data: { status, reason, at } };
  const { cycle } = conversation;
  if (status.kind === 'resolved') return [changed, { type: 'CycleEnded', data: { cycle, at } }];
  if (conversation.status.kind === 'resolved') {
    return [changed, { type: 'CycleStarted', data: { cycle: cycle + 1, at } }];
  }
  return [changed];
}

const RANK = { queued: 0, sending: 1, sent: 2, delivered: 3, read: 4 } as const;

function recordDelivery(conversation: Conversation, data: RecordDeliveryStatus['data']): ConversationEvent[] {
  const { platformMessageId, status, at } = data;
  const clientMessageId = conversation.platformMessageIds.get(platformMessageId);
  if (clientMessageId === undefined) {
    refuse(
      ConversationErrorCode.REPLY_NOT_FOUND,
      `no reply was sent as platform message ${platformMessageId}`,
      'DS5',
    );
  }
  const { status: current } = replyOf(conversation, clientMessageId);
  if (current === 'failed') return [];
  const events: ConversationEvent[] = [];
  if (RANK[current] < RANK.delivered) events.push({ type: 'ReplyDelivered', data: { clientMessageId, at } });
  if (status === 'read' && RANK[current] < RANK.read) {
    events.push({ type: 'ReplyRead', data: { clientMessageId, at } });
  }
  return events;
}

function existing(state: ConversationState): Conversation {
  if (!state) {
    refuse(
      ConversationErrorCode.CONVERSATION_NOT_FOUND,
      'the conversation has not started: no customer message yet',
      'CV1',
    );
  }
  return state;
}

function replyOf(conversation: Conversation, clientMessageId: string): Reply {
  const reply = conversation.replies.get(clientMessageId);
  if (!reply) {
    refuse(ConversationErrorCode.REPLY_NOT_FOUND, `no reply ${clientMessageId} in this conversation`, 'DS5');
  }
  return reply;
}

function labelOf(raw: string): string {
  const label = raw.trim();
  if (label === '') refuse(ConversationErrorCode.LABEL_EMPTY, 'a label needs a name', 'CV8');
  return label;
}

function withReply(state: Conversation, clientMessageId: string, change: Partial<Reply>): Conversation {
  const reply = state.replies.get(clientMessageId);
  if (!reply) return state;
  return withReplies(state, new Map(state.replies).set(clientMessageId, { ...reply, ...change }));
}

/** Replaces the replies and recomputes `awaitingCustomerSince` from the live replies to the latest customer message. */
function withReplies(state: Conversation, replies: ReadonlyMap<string, Reply>): Conversation {
  let since: EpochMs | null = null;
  for (const reply of replies.values()) {
    if (reply.turn !== state.customerMessages || reply.status === 'failed') continue;
    since = since === null ? reply.queuedAt : Math.min(since, reply.queuedAt);
  }
  return { ...state, replies, awaitingCustomerSince: since };
}
