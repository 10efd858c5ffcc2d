import {
  card,
  conversation,
  inbox,
  StreamCategory,
  streamEntityId,
  workflow,
  type CardCommand,
  type CardEvent,
  type CardState,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type InboxCommand,
  type InboxEvent,
  type InboxState,
  type RecordedEvent,
  type TenantId,
  type WorkflowCommand,
  type WorkflowEvent,
  type WorkflowState,
} from '@parley/domain';
import { structuredCodec } from './actors/codec';
import { defineGrain, type Grain } from './actors/grain';
import type { GrainRef, GrainRuntime, JointAsk, JointAskOptions, JointResult } from './actors/runtime';
import type { Topic } from './broadcast/topics';

/** The id part of an aggregate's stream id (`conversation-42` -> `42`). */
function idOf(event: RecordedEvent): string {
  return streamEntityId(event.streamId);
}

/** Each conversation is a grain; its events go to its own topic as well as its tenant's. */
export const conversationGrain: Grain<ConversationCommand, ConversationState, ConversationEvent> =
  defineGrain({
    category: StreamCategory.conversation,
    decider: conversation,
    codec: structuredCodec<ConversationState>(),
    toTopics: (event): Topic[] => [{ kind: 'conversation', tenantId: event.tenantId, id: idOf(event) }],
  });

/** Each inbox is a grain: members, presence, load and the assignment queue. */
export const inboxGrain: Grain<InboxCommand, InboxState, InboxEvent> = defineGrain({
  category: StreamCategory.inbox,
  decider: inbox,
  codec: structuredCodec<InboxState>(),
  toTopics: (event): Topic[] => [{ kind: 'inbox', tenantId: event.tenantId, id: idOf(event) }],
});

/** Each workflow (a board's definition) is a grain. */
export const workflowGrain: Grain<WorkflowCommand, WorkflowState, WorkflowEvent> = defineGrain({
  category: StreamCategory.workflow,
  decider: workflow,
  codec: structuredCodec<WorkflowState>(),
  toTopics: (event): Topic[] => [{ kind: 'board', tenantId: event.tenantId, id: idOf(event) }],
});

/**
 * Each conversation's card (its place on a board) is a grain. A card entering or moving on a
 * workflow goes to that workflow's board topic too, which its loaded board follows.
 */
export const cardGrain: Grain<CardCommand, CardState, CardEvent> = defineGrain({
  category: StreamCategory.card,
  decider: card,
  codec: structuredCodec<CardState>(),
  toTopics: (event): Topic[] =>
    'workflowId' in event.data
      ? [{ kind: 'board', tenantId: event.tenantId, id: event.data.workflowId }]
      : [],
});

/** Typed handles on the four kinds of grain, for the API, the channels and the process manager. */
export interface Grains {
  conversation(
    tenantId: TenantId,
    conversationId: string,
  ): GrainRef<ConversationCommand, ConversationState, ConversationEvent>;
  inbox(tenantId: TenantId, inboxId: string): GrainRef<InboxCommand, InboxState, InboxEvent>;
  workflow(tenantId: TenantId, workflowId: string): GrainRef<WorkflowCommand, WorkflowState, WorkflowEvent>;
  card(tenantId: TenantId, conversationId: string): GrainRef<CardCommand, CardState, CardEvent>;
  /** Commands to several conversations that commit as one (`GrainRuntime.askTogether`). */
  conversationsTogether(
    tenantId: TenantId,
    asks: readonly JointAsk<ConversationCommand>[],
    options?: JointAskOptions<ConversationState, ConversationEvent>,
  ): Promise<JointResult<ConversationState, ConversationEvent>[]>;
  /** Commands to several inboxes (or several to one) that commit as one (`GrainRuntime.askTogether`). */
  inboxesTogether(
    tenantId: TenantId,
    asks: readonly JointAsk<InboxCommand>[],
    options?: JointAskOptions<InboxState, InboxEvent>,
  ): Promise<JointResult<InboxState, InboxEvent>[]>;
}

export function createGrains(runtime: GrainRuntime): Grains {
  return {
    conversation: (tenantId, id) => runtime.get(conversationGrain, tenantId, id),
    inbox: (tenantId, id) => runtime.get(inboxGrain, tenantId, id),
    workflow: (tenantId, id) => runtime.get(workflowGrain, tenantId, id),
    card: (tenantId, id) => runtime.get(cardGrain, tenantId, id),
    conversationsTogether: (tenantId, asks, options) =>
      runtime.askTogether(conversationGrain, tenantId, asks, options),
    inboxesTogether: (tenantId, asks, options) => runtime.askTogether(inboxGrain, tenantId, asks, options),
  };
}
