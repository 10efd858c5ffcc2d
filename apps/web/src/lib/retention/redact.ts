import { lastPeriodPastRetention, periodEnd, type EpochMs } from '@parley/domain';
import type { ConversationRow, EventRow } from '../db/schema';

/** What the server reads for content whose key the retention sweep destroyed (decision 0031). */
export const ERASED = '[erased]';

/**
 * The message content of each event type, as the server's codec seals it under a retention
 * period's key (`CONTENT_FIELDS`, server/src/crypto/event-codec.ts), and what it reads as erased:
 * the same shape, so the timeline and the conversation's fold keep working.
 */
const CONTENT: Readonly<Record<string, { readonly field: string; readonly erased: unknown }>> = {
  InboundMessageReceived: { field: 'content', erased: { type: 'text', text: ERASED } },
  ReplyQueued: { field: 'content', erased: { type: 'text', text: ERASED } },
  NoteAdded: { field: 'text', erased: ERASED },
};

/**
 * Content recorded before this instant is past a retention of `days` at `now`: the end of the
 * newest period the server's sweep has destroyed (RT4). The device redacts what the server can no
 * longer read, no earlier, so a resync brings back nothing it redacted and hides nothing still clear.
 */
export function retentionCutoff(days: number, now: EpochMs): EpochMs {
  return periodEnd(lastPeriodPastRetention(days, now));
}

function isErased(value: unknown, erased: unknown): boolean {
  return JSON.stringify(value) === JSON.stringify(erased);
}

/**
 * The stored events whose message content is past the cutoff, in their redacted form: the content
 * field as the server reads it once erased, and no search words. Events already redacted, events
 * without content, and everything else of an event (type, version, metadata, time) stay as they are.
 */
export function eventsPastRetention(rows: readonly EventRow[], cutoff: EpochMs): EventRow[] {
  const redacted: EventRow[] = [];
  for (const row of rows) {
    const content = CONTENT[row.type];
    if (content === undefined || row.conversationId === '' || row.recordedAt >= cutoff) continue;
    if (!(content.field in row.data) || isErased(row.data[content.field], content.erased)) continue;
    redacted.push({ ...row, data: { ...row.data, [content.field]: content.erased }, terms: [] });
  }
  return redacted;
}

/**
 * The list rows whose preview is of a message past the cutoff, with the preview the server's list
 * shows once that message is erased. Everything else of the row (counts, status, contact) stays.
 */
export function previewsPastRetention(rows: readonly ConversationRow[], cutoff: EpochMs): ConversationRow[] {
  const redacted: ConversationRow[] = [];
  for (const row of rows) {
    const next = withRedactedPreview(row, cutoff);
    if (next !== row) redacted.push(next);
  }
  return redacted;
}

function withRedactedPreview(row: ConversationRow, cutoff: EpochMs): ConversationRow {
  const confirmed = row.confirmed && withRedactedPreview(row.confirmed, cutoff);
  const last = row.lastMessage;
  const stale = last !== null && last.at < cutoff && last.preview !== ERASED;
  if (!stale && confirmed === row.confirmed) return row;
  return {
    ...row,
    ...(stale ? { lastMessage: { ...last, preview: ERASED } } : {}),
    ...(confirmed ? { confirmed } : {}),
  };
}

/**
 * The file a message, reply or queued reply carries (`content.media.url`), if any: once its content
 * is redacted no screen shows it, so its cached copy can go unless a newer message still carries it.
 */
export function mediaUrlOf(carrier: object): string | null {
  const content = (carrier as { readonly content?: unknown }).content;
  if (typeof content !== 'object' || content === null) return null;
  const media = (content as { media?: unknown }).media;
  if (typeof media !== 'object' || media === null) return null;
  const url = (media as { url?: unknown }).url;
  return typeof url === 'string' ? url : null;
}
