import {
  highlight,
  matchesContact,
  matchesTerms,
  phoneMatches,
  queryTerms,
  searchableText,
  snippet,
  type ConversationEvent,
  type MessageKind,
  type SearchMatch,
} from '@parley/domain';
import type { ConversationRow, EventRow, ParleyDb } from './db/schema';

/** One conversation found, with what matched. */
export interface SearchHit<Row = ConversationRow> {
  readonly conversation: Row;
  readonly match: SearchMatch;
}

/** Most results one search shows. */
export const SEARCH_LIMIT = 20;

/**
 * Searches what this device holds (#15), by the same rules as the server: contacts by name, handle
 * or phone number in any format (SR1, SR2), then the words of stored messages, replies and notes
 * (SR2, SR4, through the v4 `*terms` index), latest first; one result per conversation, with the
 * matched words marked (SR3).
 */
export async function searchDevice(db: ParleyDb, query: string, limit = SEARCH_LIMIT): Promise<SearchHit[]> {
  const terms = queryTerms(query);
  const rows = await db.conversations.toArray();
  const hits: SearchHit[] = rows
    .filter((row) => matchesContact(row.contact, query))
    .sort((a, b) => b.lastActivityAt - a.lastActivityAt)
    .slice(0, limit)
    .map((row) => ({ conversation: row, match: contactMatch(row, query, terms) }));
  if (terms.length === 0 || hits.length >= limit) return hits;
  // The longest term narrows the index read most; the others are checked on the candidates.
  const probe = [...terms].sort((a, b) => b.length - a.length)[0]!;
  const candidates = await db.events.where('terms').startsWith(probe).distinct().toArray();
  const byId = new Map(rows.map((row) => [row.conversationId, row]));
  const seen = new Set(hits.map((hit) => hit.conversation.conversationId));
  const latest = new Map<string, { event: EventRow; kind: MessageKind; text: string }>();
  for (const event of candidates) {
    if (seen.has(event.conversationId)) continue;
    const found = searchableText({ type: event.type, data: event.data } as unknown as ConversationEvent);
    if (found === null || !matchesTerms(found.text, terms)) continue;
    const before = latest.get(event.conversationId);
    if (!before || event.recordedAt > before.event.recordedAt)
      latest.set(event.conversationId, { event, ...found });
  }
  const messages = [...latest.values()].sort((a, b) => b.event.recordedAt - a.event.recordedAt);
  for (const { event, kind, text } of messages) {
    if (hits.length >= limit) break;
    const row = byId.get(event.conversationId);
    const parts = snippet(text, terms);
    if (!row || !parts) continue;
    hits.push({ conversation: row, match: { field: 'message', kind, at: event.recordedAt, parts } });
  }
  return hits;
}

/** Which of the contact's fields matched, with its words marked. */
function contactMatch(row: ConversationRow, query: string, terms: readonly string[]): SearchMatch {
  const byName = highlight(row.contact.name, terms);
  if (byName.some((part) => part.match)) return { field: 'name', parts: byName };
  const { handle } = row.contact;
  const parts = phoneMatches(handle, query) ? [{ text: handle, match: true }] : highlight(handle, terms);
  return { field: 'handle', parts };
}

/**
 * The device's results, then the server's for conversations the device found nothing in (it may
 * hold more of their messages, or conversations this device has not synced); at most `limit`.
 */
export function mergeHits<Row extends { readonly conversationId: string }>(
  device: readonly SearchHit<Row>[],
  server: readonly SearchHit<Row>[],
  limit = SEARCH_LIMIT,
): SearchHit<Row>[] {
  const seen = new Set(device.map((hit) => hit.conversation.conversationId));
  return [...device, ...server.filter((hit) => !seen.has(hit.conversation.conversationId))].slice(0, limit);
}
