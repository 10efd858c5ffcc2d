import type { TenantId } from '@parley/domain';
import { applyConversationEvent, isConversationEvent } from './conversation-events';
import type { ConversationSummary } from './conversation-events';
import type { Projection } from './projection';

/** Every conversation's summary, indexed by tenant and inbox. */
export interface InboxListState {
  /** By `<tenant>/<stream>`. */
  readonly conversations: Map<string, ConversationSummary>;
  /** Conversation keys by `<tenant>/<inbox>`. */
  readonly inboxes: Map<string, Set<string>>;
}

/**
 * The inbox list: per tenant and inbox, each conversation's summary (last message, unread count,
 * status, assignee, labels, priority, reply window).
 */
export const inboxListProjection: Projection<InboxListState> = {
  name: 'inbox-list',
  initialState: () => ({ conversations: new Map(), inboxes: new Map() }),
  apply(state, event) {
    if (!isConversationEvent(event)) return;
    const key = `${event.tenantId}/${event.streamId}`;
    const before = state.conversations.get(key);
    const after = applyConversationEvent(before, event);
    if (!after) return;
    state.conversations.set(key, after);
    if (before?.inboxId === after.inboxId) return;
    if (before) removeFromInbox(state, `${before.tenantId}/${before.inboxId}`, key);
    const inboxKey = `${after.tenantId}/${after.inboxId}`;
    const members = state.inboxes.get(inboxKey) ?? new Set<string>();
    members.add(key);
    state.inboxes.set(inboxKey, members);
  },
};

function removeFromInbox(state: InboxListState, inboxKey: string, key: string): void {
  const members = state.inboxes.get(inboxKey);
  members?.delete(key);
  if (members?.size === 0) state.inboxes.delete(inboxKey);
}

/** One inbox's conversations, most recently active first. */
export function listInbox(state: InboxListState, tenantId: TenantId, inboxId: string): ConversationSummary[] {
  const keys = state.inboxes.get(`${tenantId}/${inboxId}`) ?? new Set<string>();
  return [...keys]
    .map((key) => state.conversations.get(key))
    .filter((summary): summary is ConversationSummary => summary !== undefined)
    .sort((a, b) => b.lastActivityAt - a.lastActivityAt || a.conversationId.localeCompare(b.conversationId));
}
