import { applyToSummary as foldSummary, type ConversationEvent } from '@parley/domain';
import { withKeys, type ConversationRow, type EventRow, type ParleyDb } from '../db/schema';

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

/** The row as sync last confirmed it, without the events this device folded in ahead of sync. */
export function confirmedRow(row: ConversationRow): ConversationRow {
  return row.confirmed ?? row;
}

/**
 * The row with the events this device holds beyond what sync confirmed folded in: the outbox's
 * provisional events (a command the server acknowledged, whose events sync has not brought yet),
 * so an assigned, labelled or resolved conversation does not flick back in the list between the
 * server's answer and sync. Only events that follow without a gap are folded: a missing version is
 * another agent's event on its way, and folding past it would make the fold skip it for good.
 * The confirmed row is kept as `confirmed`; sync folds the real events onto it.
 */
export function withDeviceEvents(row: ConversationRow, events: readonly EventRow[]): ConversationRow {
  const base = confirmedRow(row);
  let shown = base;
  for (const event of [...events].sort((a, b) => a.version - b.version)) {
    if (event.version <= shown.version) continue;
    if (event.version !== shown.version + 1) break;
    shown = applyToSummary(shown, event) ?? shown;
  }
  return shown === base ? base : { ...shown, confirmed: base };
}

/**
 * Re-folds the device's events beyond the confirmed rows of these conversations (inside a
 * transaction over `conversations` and `events`), and writes the rows that changed.
 */
export async function refoldDeviceEvents(db: ParleyDb, rows: readonly ConversationRow[]): Promise<void> {
  const changed: ConversationRow[] = [];
  for (const row of rows) {
    const base = confirmedRow(row);
    const beyond = await db.events
      .where('[conversationId+version]')
      .between([row.conversationId, base.version + 1], [row.conversationId, Infinity])
      .toArray();
    const shown = withDeviceEvents(base, beyond);
    if (shown !== row) changed.push(shown);
  }
  if (changed.length > 0) await db.conversations.bulkPut(changed);
}
