import type { EpochMs } from '../shared/ids';
import type { Priority } from '../conversation/types';
import type { ConversationSummary } from '../conversation/summary';
import { phoneMatches } from './phone';
import { matchesTerms, queryTerms } from './terms';

/** Every order of the inbox list (LS1), for input checks and menus. */
export const LIST_SORTS = ['newest', 'oldest', 'waiting', 'priority'] as const;

/** The inbox list's orders (LS1). */
export type ListSort = (typeof LIST_SORTS)[number];

const PRIORITY_RANK: Record<Priority, number> = { urgent: 4, high: 3, medium: 2, low: 1, none: 0 };

/** Stands for "not waiting" in a sort key: after every time. */
const NEVER = Number.MAX_SAFE_INTEGER;

/** What the list sorts and filters on: the summary's fields (the server's and the PWA's rows have them). */
export type ListRow = Pick<
  ConversationSummary,
  | 'conversationId'
  | 'inboxId'
  | 'contact'
  | 'status'
  | 'snoozedUntil'
  | 'assigneeId'
  | 'priority'
  | 'unreadAt'
  | 'lastActivityAt'
>;

/**
 * Since when the customer has waited for us (LS1): their oldest message since an agent last
 * answered (null when nothing waits).
 */
export function waitingSince(row: Pick<ListRow, 'unreadAt'>): EpochMs | null {
  const times = row.unreadAt ?? [];
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * A row's place in an order as a tuple compared in ascending order, ties by conversation id (LS1):
 * newest and oldest by last activity; waiting longest first, then newest; priority highest first,
 * then waiting longest, then newest.
 */
export function sortKey(row: ListRow, sort: ListSort): number[] {
  switch (sort) {
    case 'newest':
      return [-row.lastActivityAt];
    case 'oldest':
      return [row.lastActivityAt];
    case 'waiting':
      return [waitingSince(row) ?? NEVER, -row.lastActivityAt];
    case 'priority':
      return [-PRIORITY_RANK[row.priority], waitingSince(row) ?? NEVER, -row.lastActivityAt];
    default:
      return sort satisfies never;
  }
}

/** Compares two sort keys with their ids: negative when `a` comes first. */
export function compareKeys(a: readonly number[], aId: string, b: readonly number[], bId: string): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

/** The rows in one order (LS1), as a new array. */
export function sortRows<T extends ListRow>(rows: readonly T[], sort: ListSort): T[] {
  return rows
    .map((row) => ({ row, key: sortKey(row, sort) }))
    .sort((a, b) => compareKeys(a.key, a.row.conversationId, b.key, b.row.conversationId))
    .map(({ row }) => row);
}

/** The list's filters beyond status and whose (LS2). */
export interface ListFilter {
  readonly inboxId?: string | undefined;
  /** The members of the team the list is filtered to: a conversation assigned to one of them. */
  readonly teamMemberIds?: ReadonlySet<string> | undefined;
  /** Name, handle (a phone number in any format, SR1) or words of them (SR2). */
  readonly search?: string | undefined;
}

/** Whether a row passes the inbox, team and contact filters (LS2). */
export function matchesListFilter(row: ListRow, filter: ListFilter): boolean {
  if (filter.inboxId !== undefined && row.inboxId !== filter.inboxId) return false;
  if (filter.teamMemberIds !== undefined) {
    if (row.assigneeId === null || !filter.teamMemberIds.has(row.assigneeId)) return false;
  }
  const search = filter.search?.trim() ?? '';
  return search === '' || matchesContact(row.contact, search);
}

/**
 * Whether a contact is the one a query names (SR1, SR2): the whole query inside the name or
 * handle (case-insensitive), every term starting a word of them, or the same phone number.
 */
export function matchesContact(contact: { readonly name: string; readonly handle: string }, query: string) {
  const needle = query.trim().toLowerCase();
  if (needle === '') return false;
  const { name, handle } = contact;
  if (name.toLowerCase().includes(needle) || handle.toLowerCase().includes(needle)) return true;
  return matchesTerms(`${name} ${handle}`, queryTerms(needle)) || phoneMatches(handle, query);
}

/**
 * Whether a snoozed conversation is due to wake (LS3): snoozed, and its time has come. The
 * server's sweeper sends `WakeConversation` for each due one; the decider (CV10) decides again.
 */
export function isSnoozeDue(row: Pick<ListRow, 'status' | 'snoozedUntil'>, now: EpochMs): boolean {
  return row.status === 'snoozed' && row.snoozedUntil !== null && row.snoozedUntil <= now;
}

/** The earliest time one of the rows is due to wake (LS3), null when none is snoozed. */
export function nextWake(rows: Iterable<Pick<ListRow, 'status' | 'snoozedUntil'>>): EpochMs | null {
  let next: EpochMs | null = null;
  for (const row of rows) {
    if (row.status !== 'snoozed' || row.snoozedUntil === null) continue;
    if (next === null || row.snoozedUntil < next) next = row.snoozedUntil;
  }
  return next;
}
