import {
  highlight,
  matchesContact,
  phoneMatches,
  queryTerms,
  searchableText,
  snippet,
  streamFor,
  StreamCategory,
  unreadFor,
  type ConversationEvent,
  type MessageKind,
  type SearchMatch,
  type TenantId,
} from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import { ERASED } from '../crypto/event-codec';
import type { Database } from '../db/database';
import type { ConversationListItem } from '../api/conversation-list';
import type { InboxListState } from '../projections/inbox-list';
import type { ConversationSummary } from '../projections/conversation-events';
import type { EventStore } from '../store/types';

/** One conversation found, as the list shows it, with what matched (SR3). */
export interface SearchResult {
  readonly conversation: ConversationListItem;
  readonly match: SearchMatch;
}

export interface SearchQuery {
  readonly query: string;
  readonly limit: number;
  /** Only this inbox's conversations. */
  readonly inboxId?: string | undefined;
}

export interface SearchViewer {
  readonly agentId: string;
  /** The inboxes the viewer works in (decision 0015); unset: every inbox of the tenant. */
  readonly inboxIds?: ReadonlySet<string>;
}

/**
 * Searches one tenant's conversations (#15, decision 0025): contacts by name, handle or phone
 * number in any format (SR1, SR2) from the inbox list, and messages, replies and notes by their
 * words in the full-text index (SR2, SR4). A message's snippet (SR3) is made from its event read
 * through the store, so its text is never kept outside the sealed log. Contact matches come first,
 * then message matches, latest first; one result per conversation.
 */
export async function searchConversations(
  deps: { readonly db: Database; readonly store: EventStore; readonly state: InboxListState },
  tenantId: TenantId,
  query: SearchQuery,
  viewer: SearchViewer,
): Promise<SearchResult[]> {
  const terms = queryTerms(query.query);
  const visible = (summary: ConversationSummary | undefined): summary is ConversationSummary =>
    summary !== undefined &&
    summary.tenantId === tenantId &&
    (query.inboxId === undefined || summary.inboxId === query.inboxId) &&
    (viewer.inboxIds === undefined || viewer.inboxIds.has(summary.inboxId));
  const item = ({ tenantId: _tenant, ...summary }: ConversationSummary): ConversationListItem => ({
    ...summary,
    unreadCount: unreadFor(summary, viewer.agentId),
  });

  const results: SearchResult[] = [];
  const seen = new Set<string>();
  const contacts = [...state(deps.state, tenantId)]
    .filter((summary) => visible(summary) && matchesContact(summary.contact, query.query))
    .sort((a, b) => b.lastActivityAt - a.lastActivityAt);
  for (const summary of contacts.slice(0, query.limit)) {
    const { name, handle } = summary.contact;
    const byName = highlight(name, terms);
    const field = byName.some((part) => part.match) ? 'name' : 'handle';
    const parts =
      field === 'name'
        ? byName
        : phoneMatches(handle, query.query)
          ? [{ text: handle, match: true }]
          : highlight(handle, terms);
    results.push({ conversation: item(summary), match: { field, parts } });
    seen.add(summary.conversationId);
  }
  if (terms.length === 0 || results.length >= query.limit) return results;

  const hits = await withTenant(deps.db.sql, tenantId, (tx) =>
    tx.query<{ conversation_id: string; version: number; kind: MessageKind }>(
      `SELECT conversation_id, version, kind FROM (
         SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.version, m.kind, m.at
           FROM search_messages m
           JOIN search_conversations c
             ON c.tenant_id = m.tenant_id AND c.conversation_id = m.conversation_id
          WHERE m.tenant_id = $1 AND m.words @@ to_tsquery('simple', $2)
            AND ($3::text[] IS NULL OR c.inbox_id = ANY($3::text[]))
          ORDER BY m.conversation_id, m.at DESC, m.version DESC
       ) latest ORDER BY at DESC, conversation_id LIMIT $4`,
      [
        tenantId,
        // Each term is letters and digits only (SR2), so it is a safe tsquery prefix operand.
        terms.map((term) => `${term}:*`).join(' & '),
        inboxFilter(query.inboxId, viewer.inboxIds),
        query.limit * 2,
      ],
    ),
  );
  for (const hit of hits) {
    if (results.length >= query.limit) break;
    if (seen.has(hit.conversation_id)) continue;
    const summary = deps.state.conversations.get(
      `${tenantId}/${streamFor(StreamCategory.conversation, hit.conversation_id)}`,
    );
    if (!visible(summary)) continue;
    const [event] = await deps.store.readStream(
      tenantId,
      streamFor(StreamCategory.conversation, hit.conversation_id),
      {
        fromVersion: hit.version,
        limit: 1,
      },
    );
    const found = event ? searchableText(event as unknown as ConversationEvent) : null;
    // Erased since it was indexed (the rows go with the erasure): not shown.
    if (!event || found === null || found.text === ERASED) continue;
    const parts = snippet(found.text, terms);
    if (parts === null) continue;
    results.push({
      conversation: item(summary),
      match: { field: 'message', kind: hit.kind, at: event.recordedAt, parts },
    });
    seen.add(hit.conversation_id);
  }
  return results;
}

/** The inboxes a message search keeps to: the one asked for, the viewer's, or all (null). */
function inboxFilter(inboxId: string | undefined, mine: ReadonlySet<string> | undefined): string[] | null {
  if (inboxId !== undefined) return [inboxId];
  return mine === undefined ? null : [...mine];
}

/** One tenant's summaries, through the projection's per-tenant inbox index. */
function* state(list: InboxListState, tenantId: TenantId): Iterable<ConversationSummary> {
  const prefix = `${tenantId}/`;
  for (const [inboxKey, keys] of list.inboxes) {
    if (!inboxKey.startsWith(prefix)) continue;
    for (const key of keys) {
      const summary = list.conversations.get(key);
      if (summary) yield summary;
    }
  }
}
