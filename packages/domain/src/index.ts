export {
  type DomainEvent,
  type Checkpoint,
  type Actor,
  type RecordedEvent,
  type Decider,
  fold,
} from './shared/envelope';
export {
  type TenantId,
  type StreamId,
  type EpochMs,
  isTenantId,
  isStreamId,
  tenantId,
  streamId,
  streamFor,
  streamCategory,
  streamEntityId,
  InvalidIdError,
} from './shared/ids';
export {
  type JsonValue,
  type JsonObject,
  findNonJson,
  findUnstorableText,
  sanitizeJson,
} from './shared/json';
export { DomainError, isDomainError } from './shared/errors';
export { type DomainCommand, assertNever } from './shared/command';
export {
  characterCount,
  isStorableText,
  REPLACEMENT_CHARACTER,
  sanitizeText,
  utf8ByteLength,
} from './shared/text';
export { StreamCategory } from './streams';
export { EVENT_TYPES, DOMAIN_EVENT_TYPES } from './event-types';

export {
  type Platform,
  type MediaKind,
  type MessageTag,
  type MediaRef,
  type InboundContent,
  type MessageContent,
  type LocationContent,
  type ReactionContent,
  type UnsupportedContent,
  type ReplyContent,
  type MessageTemplate,
  type MediaLimit,
  type PlatformPolicy,
  type Capabilities,
  type ReplyRefusal,
  type ReplyCheck,
  type ReplyContext,
  ReplyRefusalCode,
  validateReply,
  checkWindow,
  windowDeadline,
  humanAgentDeadline,
  capabilitiesOf,
  effectiveTag,
  checkMedia,
} from './platforms/policy';
export {
  ATTACHMENT_SCHEME,
  UNKNOWN_MIME,
  attachmentUrl,
  attachmentHash,
  mediaKindOf,
  sniffMime,
  checkAttachment,
  renderTemplate,
  type AttachmentCheck,
  type TemplateWithBody,
} from './platforms/media';
export { platformPolicies, policyFor } from './platforms/policies';
export { whatsapp } from './platforms/whatsapp';
export { instagram } from './platforms/instagram';
export { messenger } from './platforms/messenger';
export { telegram } from './platforms/telegram';
export { webchat } from './platforms/webchat';

export {
  type Contact,
  type Priority,
  type ConversationStatus,
  type StatusReason,
  type DeliveryStatus,
  ConversationErrorCode,
  type ReceiveInboundMessage,
  type QueueReply,
  type MarkReplySending,
  type MarkReplySent,
  type MarkReplyFailed,
  type RecordDeliveryStatus,
  type AddNote,
  type AddLabel,
  type RemoveLabel,
  type AssignConversation,
  type UnassignConversation,
  type SetStatus,
  type SnoozeConversation,
  type WakeConversation,
  type SetPriority,
  type MarkConversationRead,
  type ConversationCommand,
  type ConversationStarted,
  type CycleStarted,
  type CycleEnded,
  type InboundMessageReceived,
  type ReplyQueued,
  type ReplySending,
  type ReplySent,
  type ReplyFailed,
  type ReplyDelivered,
  type ReplyRead,
  type NoteAdded,
  type LabelAdded,
  type LabelRemoved,
  type ConversationAssigned,
  type ConversationUnassigned,
  type StatusChanged,
  type PriorityChanged,
  type ConversationRead,
  type ConversationEvent,
  type Reply,
  type Conversation,
  type ConversationState,
} from './conversation/types';
export { conversation } from './conversation/decider';
export {
  type ClientCommand,
  type ClientCommandContext,
  type RefusalDescription,
  CLIENT_COMMAND_TYPES,
  toConversationCommand,
  describeRefusal,
} from './conversation/client-commands';
export { checkInboundContent, contentLine, UNSUPPORTED_MESSAGE } from './conversation/content';
export {
  applyToSummary,
  messagePreview,
  PREVIEW_LENGTH,
  previewAuthor,
  unreadConversations,
  unreadFor,
  type ConversationSummary,
  type MessagePreview,
} from './conversation/summary';
export { type TimelineEntry, compareTimeline, conversationTimeline } from './conversation/timeline';

export {
  type Presence,
  type AssignmentPolicy,
  type AgentLoad,
  type StrategyState,
  type Choice,
  canTake,
  initialStrategyState,
  chooseAgent,
  roundRobin,
  weighted,
  leastBusy,
} from './inbox/assignment';
export {
  type Channel,
  InboxErrorCode,
  type CreateInbox,
  type AddMember,
  type RemoveMember,
  type SetPresence,
  type SetCapacity,
  type SetWeight,
  type SetAssignmentPolicy,
  type RequestAssignment,
  type AssignManually,
  type ReleaseConversation,
  type InboxCommand,
  type InboxCreated,
  type MemberAdded,
  type MemberRemoved,
  type PresenceChanged,
  type CapacityChanged,
  type WeightChanged,
  type AssignmentPolicyChanged,
  type ConversationQueued,
  type AgentAssigned,
  type ConversationReleased,
  type ConversationDequeued,
  type InboxEvent,
  type Member,
  type QueuedConversation,
  type Inbox,
  type InboxState,
} from './inbox/types';
export { inbox, agentLoads } from './inbox/decider';

export {
  type EntryAction,
  type Stage,
  type Transition,
  type WorkflowDefinition,
  WorkflowErrorCode,
  type CreateWorkflow,
  type ReviseWorkflow,
  type WorkflowCommand,
  type WorkflowCreated,
  type WorkflowRevised,
  type WorkflowEvent,
  type WorkflowState,
} from './workflow/types';
export { workflow, canTransition, stageOf } from './workflow/decider';
export {
  ContactErrorCode,
  type ContactCommand,
  type ContactErased,
  type ContactEvent,
  type ContactState,
  type EraseContact,
} from './contact/types';
export { contact } from './contact/decider';
export {
  type BoardAccess,
  type BoardPermission,
  type BoardPermissionRequest,
  BoardPermissionErrorCode,
  boardPermission,
  requireBoardEdit,
} from './board/permission';

export {
  CardErrorCode,
  type EnterWorkflow,
  type MoveCard,
  type CardCommand,
  type CardEnteredWorkflow,
  type CardMoved,
  type CardReordered,
  type CardEvent,
  type StageVisit,
  type Card,
  type CardState,
} from './card/types';
export { card } from './card/decider';

export {
  type Weekday,
  type OpenInterval,
  type BusinessSchedule,
  ScheduleErrorCode,
  checkSchedule,
  businessMsBetween,
  addBusinessMs,
  isOpenAt,
  offsetAt,
  instantOfLocal,
  zonedInstant,
} from './analytics/business-hours';
export {
  type SlaTarget,
  type SlaBreached,
  type MetricsEvent,
  type Duration,
  type ResponseFact,
  type Pause,
  type CycleFacts,
  type MetricsState,
  initialMetricsState,
  evolveMetrics,
  isHumanReply,
  durationOf,
  currentCycle,
} from './analytics/metrics';
export {
  DURATION_BUCKETS,
  type DurationBucket,
  type DurationSummary,
  quantile,
  median,
  p90,
  bucketOf,
  buckets,
  summarizeDurations,
} from './analytics/aggregate';
export {
  SLA_TARGETS,
  type SlaPolicy,
  type SlaClock,
  selectSlaPolicy,
  slaStatus,
  decideSlaBreaches,
} from './analytics/sla';
