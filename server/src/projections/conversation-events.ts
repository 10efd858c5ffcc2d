import { applyToSummary, EVENT_TYPES, StreamCategory, streamCategory } from '@parley/domain';
import type {
  ConversationEvent,
  ConversationSummary as DomainConversationSummary,
  RecordedEvent,
  TenantId,
} from '@parley/domain';

/** The domain's conversation event types (packages/domain/src/event-types.ts keeps the list whole). */
const CONVERSATION_EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES.conversation);

/** One conversation as the inbox list and agent load see it: the domain's summary, in its tenant. */
export interface ConversationSummary extends DomainConversationSummary {
  readonly tenantId: TenantId;
}

/** A recorded event of a conversation stream, typed as one of the domain's conversation events. */
export type ConversationRecordedEvent = RecordedEvent<ConversationEvent> & ConversationEvent;

/** True for an event of a conversation stream whose type the domain defines. */
export function isConversationEvent(event: RecordedEvent): event is ConversationRecordedEvent {
  return (
    streamCategory(event.streamId) === StreamCategory.conversation && CONVERSATION_EVENT_TYPES.has(event.type)
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
