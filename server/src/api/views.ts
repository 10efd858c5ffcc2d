import {
  capabilitiesOf,
  conversationTimeline,
  policyFor,
  windowDeadline,
  type Conversation,
  type ConversationEvent,
  type Inbox,
  type JsonObject,
} from '@parley/domain';
import type { RecordedEvent } from '@parley/domain';
import type { AgentRecord } from '../auth/accounts';

/** An agent as other agents of the tenant see them. */
export function agentView(agent: AgentRecord) {
  return {
    id: agent.id,
    name: agent.name,
    email: agent.email,
    role: agent.role,
    presence: agent.presence,
    active: agent.active,
  };
}

/** A conversation's state as JSON, with what the PWA needs to offer the right reply options. */
export function conversationView(conversation: Conversation, version: number) {
  const policy = policyFor(conversation.platform);
  return {
    conversationId: conversation.conversationId,
    inboxId: conversation.inboxId,
    platform: conversation.platform,
    contact: conversation.contact,
    status: conversation.status,
    cycle: conversation.cycle,
    assigneeId: conversation.assigneeId,
    labels: [...conversation.labels],
    priority: conversation.priority,
    lastCustomerMessageAt: conversation.lastCustomerMessageAt,
    windowClosesAt: windowDeadline(policy, conversation.lastCustomerMessageAt),
    awaitingCustomerSince: conversation.awaitingCustomerSince,
    capabilities: capabilitiesOf(policy),
    replies: [...conversation.replies].map(([clientMessageId, reply]) => ({
      clientMessageId,
      content: reply.content,
      tag: reply.tag,
      status: reply.status,
      platformMessageId: reply.platformMessageId,
      failureReason: reply.failureReason,
      queuedAt: reply.queuedAt,
    })),
    version,
  };
}

/**
 * A conversation's timeline as JSON (rule CV14), from its events in log order; each reply carries
 * its delivery status from the state.
 */
export function timelineView(conversation: Conversation, version: number, events: readonly RecordedEvent[]) {
  const items = conversationTimeline(events.map((event) => event as unknown as ConversationEvent)).map(
    (entry) =>
      entry.kind === 'reply'
        ? { ...entry, status: conversation.replies.get(entry.clientMessageId)?.status ?? 'queued' }
        : entry,
  );
  return { conversationId: conversation.conversationId, items, version };
}

/** An inbox's configuration and members as JSON. */
export function inboxView(inbox: Inbox, version: number) {
  return {
    inboxId: inbox.inboxId,
    name: inbox.name,
    channel: inbox.channel,
    policy: inbox.policy,
    members: inbox.members.map((member) => ({
      agentId: member.agentId,
      weight: member.weight,
      capacity: member.capacity,
      presence: member.presence,
    })),
    queued: inbox.queue.length,
    version,
  };
}

/** The metadata the API stores with every event a person's command causes: who did it. */
export function actorMetadata(agent: AgentRecord): JsonObject {
  return { actor: { kind: 'agent', id: agent.id } };
}

/** The answer to a command: the stream's version after it, and whether it changed anything. */
export function commandResult(result: {
  readonly events: readonly RecordedEvent[];
  readonly version: number;
}) {
  return { version: result.version, changed: result.events.length > 0 };
}
