export { agentLoad, agentLoadProjection } from './agent-load';
export type { AgentLoadState } from './agent-load';
export { applyConversationEvent, isConversationEvent, PREVIEW_LENGTH } from './conversation-events';
export type { ConversationRecordedEvent, ConversationSummary, MessagePreview } from './conversation-events';
export { inboxListProjection, listInbox } from './inbox-list';
export type { InboxListState } from './inbox-list';
export { createProjectionRunner } from './projection';
export type { Projection, ProjectionRunner, ProjectionRunnerOptions } from './projection';
