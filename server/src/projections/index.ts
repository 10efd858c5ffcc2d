export { agentLoad, agentLoadProjection } from './agent-load';
export type { AgentLoadState } from './agent-load';
export { applyConversationEvent, isConversationEvent } from './conversation-events';
export type { ConversationRecordedEvent, ConversationSummary } from './conversation-events';
export { inboxListProjection, listInbox } from './inbox-list';
export type { InboxListState } from './inbox-list';
export { createProjectionRunner } from './projection';
export type { Projection, ProjectionRunner, ProjectionRunnerOptions } from './projection';
