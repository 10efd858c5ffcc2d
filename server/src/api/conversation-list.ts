import { DomainError, unreadFor, type TenantId } from '@parley/domain';
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
  /** Part of the contact's name or handle, case-insensitive. */
  readonly search?: string | undefined;
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
 * One page of a tenant's conversations from the inbox-list projection, most recently active first.
 * The cursor is the last item's (lastActivityAt, conversationId), so a conversation that moves up
 * while the agent pages is shown again at the top on the next refresh, never skipped mid-list.
 */
export function listConversations(
  state: InboxListState,
  tenantId: TenantId,
  query: ConversationListQuery,
  viewer: ListViewer,
): ConversationPage {
  const after = query.cursor ? decodeListCursor(query.cursor) : undefined;
  const needle = query.search?.trim().toLowerCase() ?? '';
  const matches = (summary: ConversationSummary): boolean => {
    if (query.status !== undefined && summary.status !== query.status) return false;
    if (query.inboxId !== undefined && summary.inboxId !== query.inboxId) return false;
    if (viewer.inboxIds && !viewer.inboxIds.has(summary.inboxId)) return false;
    switch (query.filter) {
      case 'mine':
        if (summary.assigneeId !== viewer.agentId) return false;
        break;
      case 'unassigned':
        if (summary.assigneeId !== null) return false;
        break;
      case 'team':
        if (summary.assigneeId === null || !viewer.teamMemberIds?.has(summary.assigneeId)) return false;
        break;
      case 'all':
        break;
      default:
        return query.filter satisfies never;
    }
    if (needle === '') return true;
    const { name, handle } = summary.contact;
    return name.toLowerCase().includes(needle) || handle.toLowerCase().includes(needle);
  };
  const sorted = tenantConversations(state, tenantId)
    .filter(matches)
    .sort((a, b) => b.lastActivityAt - a.lastActivityAt || compareIds(a.conversationId, b.conversationId));
  const start = after
    ? sorted.findIndex(
        (s) =>
          s.lastActivityAt < after.at ||
          (s.lastActivityAt === after.at && compareIds(s.conversationId, after.id) > 0),
      )
    : 0;
  const page = start < 0 ? [] : sorted.slice(start, start + query.limit);
  const last = page.at(-1);
  const more = start >= 0 && start + query.limit < sorted.length;
  return {
    // Unread is the viewer's own (CV18): the customer messages after their read mark.
    items: page.map(({ tenantId: _tenant, ...item }) => ({
      ...item,
      unreadCount: unreadFor(item, viewer.agentId),
    })),
    nextCursor: more && last ? encodeListCursor(last.lastActivityAt, last.conversationId) : null,
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

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeListCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeListCursor(cursor: string): { at: number; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // fall through to the refusal below
  }
  throw new DomainError(ListErrorCode.CURSOR_INVALID, 'the list cursor is not one this server made', {
    hint: 'start again without a cursor',
  });
}
