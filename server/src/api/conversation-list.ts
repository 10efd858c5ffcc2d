import {
  compareKeys,
  DomainError,
  matchesListFilter,
  sortKey,
  unreadFor,
  type ListSort,
  type TenantId,
} from '@parley/domain';
import type { ConversationSummary } from '../projections/conversation-events';
import type { InboxListState } from '../projections/inbox-list';

/** Refusals of the list query. */
export const ListErrorCode = {
  /** A cursor this server did not make. */
  CURSOR_INVALID: 'CURSOR_INVALID',
} as const;

/** Which conversations the inbox list shows. */
export interface ConversationListQuery {
  /** Whose: assigned to me, to nobody, to a member of a team, or everyone's. */
  readonly filter: 'mine' | 'unassigned' | 'team' | 'all';
  readonly status?: ConversationSummary['status'] | undefined;
  readonly inboxId?: string | undefined;
  /** The contact's name or handle, words of them, or their phone number in any format (LS2, SR1). */
  readonly search?: string | undefined;
  /** The order (LS1); newest activity first by default. */
  readonly sort?: ListSort | undefined;
  readonly cursor?: string | null | undefined;
  readonly limit: number;
}

/** What the filter compares with: who is asking and, for `team`, the team's members. */
export interface ListViewer {
  readonly agentId: string;
  readonly teamMemberIds?: ReadonlySet<string>;
  /** The inboxes the viewer works in (decision 0015); unset: every inbox of the tenant. */
  readonly inboxIds?: ReadonlySet<string>;
}

/** A conversation as the inbox list shows it; `unreadCount` is the viewer's own (`unreadFor`, CV18). */
export type ConversationListItem = Omit<ConversationSummary, 'tenantId'>;

/** One page of the list and the cursor of the next (null at the end). */
export interface ConversationPage {
  readonly items: readonly ConversationListItem[];
  readonly nextCursor: string | null;
}

/**
 * One page of a tenant's conversations from the inbox-list projection, in the query's order (LS1).
 * The cursor is the last item's sort key and id, so a conversation that moves while the agent
 * pages is shown again on the next refresh, never skipped mid-list.
 */
export function listConversations(
  state: InboxListState,
  tenantId: TenantId,
  query: ConversationListQuery,
  viewer: ListViewer,
): ConversationPage {
  const sort = query.sort ?? 'newest';
  const after = query.cursor ? decodeListCursor(query.cursor, sort) : undefined;
  const filter = {
    inboxId: query.inboxId,
    search: query.search,
    ...(query.filter === 'team' ? { teamMemberIds: viewer.teamMemberIds ?? new Set<string>() } : {}),
  };
  const matches = (summary: ConversationSummary): boolean => {
    if (query.status !== undefined && summary.status !== query.status) return false;
    if (viewer.inboxIds && !viewer.inboxIds.has(summary.inboxId)) return false;
    switch (query.filter) {
      case 'mine':
        if (summary.assigneeId !== viewer.agentId) return false;
        break;
      case 'unassigned':
        if (summary.assigneeId !== null) return false;
        break;
      case 'team':
      case 'all':
        break;
      default:
        return query.filter satisfies never;
    }
    return matchesListFilter(summary, filter);
  };
  const sorted = tenantConversations(state, tenantId)
    .filter(matches)
    .map((summary) => ({ summary, key: sortKey(summary, sort) }))
    .sort((a, b) => compareKeys(a.key, a.summary.conversationId, b.key, b.summary.conversationId));
  const start = after
    ? sorted.findIndex((s) => compareKeys(s.key, s.summary.conversationId, after.key, after.id) > 0)
    : 0;
  const page = start < 0 ? [] : sorted.slice(start, start + query.limit);
  const last = page.at(-1);
  const more = start >= 0 && start + query.limit < sorted.length;
  return {
    // Unread is the viewer's own (CV18): the customer messages after their read mark.
    items: page.map(({ summary: { tenantId: _tenant, ...item } }) => ({
      ...item,
      unreadCount: unreadFor(item, viewer.agentId),
    })),
    nextCursor: more && last ? encodeListCursor(sort, last.key, last.summary.conversationId) : null,
  };
}

/** Every conversation of one tenant, through the projection's per-tenant inbox index. */
function tenantConversations(state: InboxListState, tenantId: TenantId): ConversationSummary[] {
  const prefix = `${tenantId}/`;
  const found: ConversationSummary[] = [];
  for (const [inboxKey, keys] of state.inboxes) {
    if (!inboxKey.startsWith(prefix)) continue;
    for (const key of keys) {
      const summary = state.conversations.get(key);
      if (summary?.tenantId === tenantId) found.push(summary);
    }
  }
  return found;
}

function encodeListCursor(sort: ListSort, key: readonly number[], id: string): string {
  return Buffer.from(JSON.stringify([sort, key, id])).toString('base64url');
}

/** A cursor of this order; one made for another order (or not by this server) is refused. */
function decodeListCursor(cursor: string, sort: ListSort): { key: number[]; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value[0] === sort &&
      Array.isArray(value[1]) &&
      value[1].every((n) => typeof n === 'number') &&
      typeof value[2] === 'string'
    ) {
      return { key: value[1], id: value[2] };
    }
  } catch {
    // fall through to the refusal below
  }
  throw new DomainError(ListErrorCode.CURSOR_INVALID, 'the list cursor is not one this server made', {
    hint: 'start again without a cursor',
  });
}
