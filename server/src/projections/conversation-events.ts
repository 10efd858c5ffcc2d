import { applyToSummary, StreamCategory, streamCategory } from '@parley/domain';
import type {
  ConversationEvent,
  ConversationSummary as DomainConversationSummary,
  RecordedEvent,
  TenantId,
} from '@parley/domain';

/** Every conversation event type; the `Record` makes a new domain event a compile error here. */
const EVENT_TYPES: Readonly<Record<ConversationEvent['type'], true>> = {
  ConversationStarted: true,
  CycleStarted: true,
  CycleEnded: true,
  InboundMessageReceived: true,
  ReplyQueued: true,
  ReplySending: true,
  ReplySent: true,
  ReplyFailed: true,
  ReplyDelivered: true,
  ReplyRead: true,
  NoteAdded: true,
  LabelAdded: true,
  LabelRemoved: true,
  ConversationAssigned: true,
  ConversationUnassigned: true,
  StatusChanged: true,
  PriorityChanged: true,
  ConversationRead: true,
};

/** One conversation as the inbox list and agent load see it: the domain's summary, in its tenant. */
export interface ConversationSummary extends DomainConversationSummary {
  readonly tenantId: TenantId;
}

/** A recorded event of a conversation stream, typed as one of the domain's conversation events. */
export type ConversationRecordedEvent = RecordedEvent<ConversationEvent> & ConversationEvent;

/** True for an event of a conversation stream whose type the domain defines. */
export function isConversationEvent(event: RecordedEvent): event is ConversationRecordedEvent {
  return (
    streamCategory(event.streamId) === StreamCategory.conversation && Object.hasOwn(EVENT_TYPES, event.type)
  );
}

/**
 * Folds one event into its conversation's summary (the domain's `applyToSummary`, which the PWA
 * folds with too); a stream not begun by `ConversationStarted` has none.
 */
export function applyConversationEvent(
  summary: ConversationSummary | undefined,
  event: ConversationRecordedEvent,
): ConversationSummary | undefined {
  const next = applyToSummary(summary, event, event.version);
  return next && { ...next, tenantId: event.tenantId };
}
