import type { EpochMs } from '@parley/domain';
import type { EventRow, ParleyDb } from '../db/schema';
import { eventsPastRetention, mediaUrlOf, previewsPastRetention, retentionCutoff } from './redact';

/** The meta row that keeps the tenant's retention on the device, so it is honoured offline too. */
export const RETENTION_KEY = 'retention';

/** How often an open app redacts again: the server sweeps hourly, but content ages by the day. */
export const RETENTION_PASS_MS = 24 * 60 * 60 * 1000;

/** The retention this device last heard from the server, in days; null (kept for ever) if none. */
export async function storedRetention(db: ParleyDb): Promise<number | null> {
  const value = (await db.meta.get(RETENTION_KEY))?.value;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

/** Keeps the tenant's retention as the server last said it (`catalog.retention`). */
export async function storeRetention(db: ParleyDb, days: number | null): Promise<void> {
  await db.meta.put({ key: RETENTION_KEY, value: days });
}

/** What a pass redacted, and the files no stored message or queued reply carries any more. */
export interface RetentionPass {
  readonly events: number;
  readonly conversations: number;
  /** For `evictCachedMedia`, after the transaction (the Cache API is not IndexedDB). */
  readonly media: readonly string[];
}

/**
 * Redacts, in place and in one transaction, the message content this device holds that the
 * tenant's retention has made unreadable on the server (decision 0031): events keep their place
 * in the log (the conversation's fold needs them) but read "[erased]" and lose their search words,
 * and a list preview of such a message reads "[erased]". The outbox and drafts are the agent's own
 * unsent work, not synced content: read (a queued reply's file stays cached), never written.
 * Running it again changes nothing.
 */
export async function redactPastRetention(
  db: ParleyDb,
  days: number | null,
  now: EpochMs,
): Promise<RetentionPass> {
  if (days === null) return { events: 0, conversations: 0, media: [] };
  const cutoff = retentionCutoff(days, now);
  return db.transaction('rw', db.events, db.conversations, db.outbox, async () => {
    const old: EventRow[] = [];
    const kept = new Set<string>();
    await db.events.each((row) => {
      if (row.recordedAt < cutoff) old.push(row);
      else keep(kept, mediaUrlOf(row.data));
    });
    await db.outbox.each((row) => keep(kept, mediaUrlOf(row.command)));
    const events = eventsPastRetention(old, cutoff);
    const conversations = previewsPastRetention(await db.conversations.toArray(), cutoff);
    if (events.length > 0) await db.events.bulkPut(events);
    if (conversations.length > 0) await db.conversations.bulkPut(conversations);
    const media = new Set(
      old.map((row) => mediaUrlOf(row.data)).filter((url) => url !== null && !kept.has(url)),
    );
    return { events: events.length, conversations: conversations.length, media: [...media] as string[] };
  });
}

function keep(kept: Set<string>, url: string | null): void {
  if (url !== null) kept.add(url);
}
