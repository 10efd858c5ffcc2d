import { applyToSummary as foldSummary, type ConversationEvent } from '@parley/domain';
import { withKeys, type ConversationRow, type EventRow } from '../db/schema';

/**
 * Folds one stored conversation event into the list row with the domain's `applyToSummary`, the
 * function the server's inbox-list projection folds with, so a list fetched from the server and one
 * folded here agree. Repeats (a version already folded) change nothing; the row keeps its search
 * and assignee keys and whether its events have been fetched.
 */
export function applyToSummary(
  row: ConversationRow | undefined,
  stored: EventRow,
): ConversationRow | undefined {
  const event = { type: stored.type, data: stored.data } as unknown as ConversationEvent;
  const next = foldSummary(row, event, stored.version);
  if (next === undefined || next === row) return row;
  return withKeys({ ...next, hydrated: row?.hydrated ?? true });
}
