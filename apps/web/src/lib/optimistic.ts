import { conversationFromSummary, type Conversation } from '@parley/domain';
import type { ConversationRow, OutboxRow } from './db/schema';
import { rebase } from './decide';
import type { CommandTarget } from './outbox/queue';

/**
 * What the domain decides a command on when the conversation's events are not on this device: the
 * list row itself, a `ConversationSummary` the domain turns into state (`conversationFromSummary`, CC4).
 */
export function targetOf(row: ConversationRow): CommandTarget {
  return row;
}

/**
 * The list row as the agent should see it: the synced row with this device's pending commands
 * decided on it (`state`, from `rebase`). Never stored: sync alone writes the list.
 */
export function optimisticRow(row: ConversationRow, state: Conversation | null): ConversationRow {
  if (!state) return row;
  return {
    ...row,
    status: state.status.kind,
    snoozedUntil: state.status.kind === 'snoozed' ? state.status.until : null,
    labels: state.labels,
    assigneeId: state.assigneeId,
    priority: state.priority,
    assigneeKey: state.assigneeId ?? '',
  };
}

/**
 * The list rows with the waiting commands of their conversations rebased on them (on what the row
 * knows: status, labels, assignee, priority), so a conversation resolved or assigned offline moves
 * between the list's filters at once. `rows` are the synced rows concerned; `inLog` the device
 * commands whose events sync brought (`commandsInLog`): those are in the rows already and are
 * not rebased again, even while their answer is lost. A waiting `MarkConversationRead` moves the
 * signed-in agent's (`agentId`) read mark at once, so the badge goes when the conversation opens,
 * offline too (CV18).
 */
export function withPending(
  rows: readonly ConversationRow[],
  outbox: readonly OutboxRow[],
  now: number,
  inLog: ReadonlySet<string> = new Set(),
  agentId?: string,
): ConversationRow[] {
  const waiting = new Map<string, OutboxRow[]>();
  for (const item of outbox) {
    if (item.sequence === undefined || item.refusal !== null) continue;
    const list = waiting.get(item.conversationId) ?? [];
    list.push(item);
    waiting.set(item.conversationId, list);
  }
  return rows.map((row) => {
    const pending = waiting.get(row.conversationId);
    if (!pending) return row;
    const { state } = rebase(conversationFromSummary(row), pending, { now, templates: [], inLog });
    const shown = optimisticRow(row, state);
    return agentId === undefined ? shown : withReadMark(shown, pending, agentId);
  });
}

/** The row with the agent's waiting read marks applied (a mark never moves back, CV15). */
export function withReadMark(
  row: ConversationRow,
  pending: readonly OutboxRow[],
  agentId: string,
): ConversationRow {
  let mark = row.readMarks?.[agentId];
  for (const item of pending) {
    if (item.command.type !== 'MarkConversationRead') continue;
    if (mark === undefined || item.command.upTo > mark) mark = item.command.upTo;
  }
  if (mark === undefined || mark === row.readMarks?.[agentId]) return row;
  return { ...row, readMarks: { ...row.readMarks, [agentId]: mark } };
}
