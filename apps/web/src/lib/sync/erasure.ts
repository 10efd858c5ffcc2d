import { attachmentHash } from '@parley/domain';
import type { MetaRow, ParleyDb } from '../db/schema';
import type { ListItem, SyncEvent } from '../api/wire';
import { fileUrl } from '../attachments';

/**
 * What this device keeps of an erasure notice it applied (decision 0029), as meta row
 * `erasure:<notice id>`: so a notice delivered again (a catch-up page applied twice, live after
 * catch-up) drops nothing twice and tells the agent once, and so the screen can say what happened.
 */
export interface ErasureRecord {
  /** The notice's event id. */
  readonly id: string;
  readonly conversations: readonly string[];
  /** Of those, the ones where this agent's draft or queued commands were discarded. */
  readonly discarded: readonly string[];
  /** Something the agent wrote went (a reply or note queued, a draft), not only changes. */
  readonly discardedWriting?: boolean;
  readonly erasedAt: number;
  /** The agent closed the notice. */
  readonly dismissed: boolean;
}

export const ERASURE_KEY_PREFIX = 'erasure:';

/** What the server reads for a field whose key was destroyed (decision 0022). */
const ERASED = '[erased]';

/** An erasure notice of the sync feed: `ContactErased` on a contact's stream, naming conversation ids. */
export function isErasureNotice(event: Pick<SyncEvent, 'streamId' | 'type'>): boolean {
  return event.streamId.startsWith('contact-') && event.type === 'ContactErased';
}

/**
 * A list item whose contact the server reads as erased: a destroyed key opens every field of the
 * contact as "[erased]" (decision 0022). A contact who wrote again since shows their new details.
 */
export function isErasedItem(item: Pick<ListItem, 'contact'>): boolean {
  return item.contact.id === ERASED && item.contact.name === ERASED;
}

/** What a device needs of an erasure: which conversations, and an id to apply it once by. */
export interface ErasureNotice {
  readonly id: string;
  readonly conversations: readonly string[];
  readonly erasedAt: number;
}

/** The notice a sync event carries (conversation ids only; anything else in it is ignored). */
export function noticeOf(event: SyncEvent): ErasureNotice {
  const named = event.data.conversations;
  const conversations = Array.isArray(named)
    ? named.filter((id): id is string => typeof id === 'string' && id !== '')
    : [];
  return { id: event.id, conversations, erasedAt: event.recordedAt };
}

/**
 * The notice for the erased conversations a resync met (no notice event is applied then), so
 * their queued commands and drafts go the same way and the agent is told.
 */
export function resyncNotice(cursor: string, conversations: readonly string[], at: number): ErasureNotice {
  return { id: `resync:${cursor}`, conversations, erasedAt: at };
}

/** Every `media.url` in an event's or command's data (messages, replies, captions' files). */
function mediaUrlsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) mediaUrlsIn(item, found);
  else if (value !== null && typeof value === 'object') {
    const media = (value as { media?: unknown }).media;
    if (media !== null && typeof media === 'object' && typeof (media as { url?: unknown }).url === 'string')
      found.add((media as { url: string }).url);
    for (const item of Object.values(value)) mediaUrlsIn(item, found);
  }
  return found;
}

/** What a drop left for after its transaction: the cached copies of the conversations' files. */
export interface Dropped {
  readonly record: ErasureRecord | null;
  /** URLs the service worker's caches may hold for those conversations (`evictCachedMedia`). */
  readonly media: readonly string[];
}

/** The tables `dropErased` writes: the caller's transaction must cover them all. */
export function erasureTables(db: ParleyDb) {
  return [db.events, db.conversations, db.outbox, db.drafts, db.meta] as const;
}

/**
 * Deletes everything this device holds about the conversations an erasure notice names, inside the
 * caller's transaction over `erasureTables` (sync applies it with the page that brought it, so the
 * drop and the cursor past it commit together): the conversations' and their cards' events (their
 * search words are on those rows), the list rows, the outbox's commands (queued or refused) and the
 * files they wait to upload, the drafts, the contact panel's cached profile. A notice already
 * recorded does nothing. Returns the record, or null when it was applied before.
 */
export async function dropErased(db: ParleyDb, notice: ErasureNotice): Promise<Dropped> {
  const key = `${ERASURE_KEY_PREFIX}${notice.id}`;
  if (await db.meta.get(key)) return { record: null, media: [] };
  const { conversations } = notice;
  const media = new Set<string>();
  const discarded: string[] = [];
  let discardedWriting = false;
  const files = new Set<string>();
  for (const conversationId of conversations) {
    const events = db.events
      .where('[conversationId+version]')
      .between([conversationId, 0], [conversationId, Infinity]);
    for (const row of await events.toArray()) mediaUrlsIn(row.data, media);
    await events.delete();
    await db.events
      .where('[streamId+version]')
      .between([`card-${conversationId}`, 0], [`card-${conversationId}`, Infinity])
      .delete();
    await db.conversations.delete(conversationId);

    const outbox = await db.outbox.where('conversationId').equals(conversationId).toArray();
    const draft = await db.drafts.get(conversationId);
    const drafted = draft !== undefined && draft.text.trim() !== '';
    if (outbox.length > 0 || drafted) discarded.push(conversationId);
    if (drafted || outbox.some((row) => row.command.type === 'QueueReply' || row.command.type === 'AddNote'))
      discardedWriting = true;
    for (const row of outbox) mediaUrlsIn(row.command, files);
    await db.outbox.bulkDelete(outbox.map((row) => row.clientMessageId));
    await db.drafts.delete(conversationId);
    await db.meta.delete(`contact-profile:${conversationId}`);
  }
  // A file waiting to be uploaded goes unless another conversation's reply still carries it.
  const stillCarried = new Set<string>();
  for (const row of await db.outbox.toArray()) mediaUrlsIn(row.command, stillCarried);
  for (const url of files) {
    media.add(url);
    const hash = attachmentHash(url);
    if (hash !== null && !stillCarried.has(url)) await db.meta.delete(`file:${hash}`);
  }
  const record: ErasureRecord = {
    id: notice.id,
    conversations,
    discarded,
    discardedWriting,
    erasedAt: notice.erasedAt,
    dismissed: false,
  };
  await db.meta.put({ key, value: record } satisfies MetaRow);
  return { record, media: [...media] };
}

/**
 * Removes the erased conversations' files from the service worker's runtime caches (not the app
 * shell's precache). Best effort, after the drop's transaction: the Cache API is not IndexedDB.
 * A stored file is cached under the URL the PWA shows it from (`/api/attachments/<sha256>`).
 */
export async function evictCachedMedia(urls: readonly string[]): Promise<void> {
  if (urls.length === 0 || typeof caches === 'undefined') return;
  const shown = urls.flatMap((url) => {
    const hash = attachmentHash(url);
    return hash === null ? [url] : [url, fileUrl(hash)];
  });
  try {
    for (const name of await caches.keys()) {
      if (name.startsWith('workbox-precache')) continue;
      const cache = await caches.open(name);
      for (const url of shown) await cache.delete(url, { ignoreSearch: true, ignoreVary: true });
    }
  } catch {
    // A cache that cannot be opened holds nothing this device can reach either.
  }
}

/** The erasure notices this device applied and the agent has not closed yet, newest first. */
export async function openErasureNotices(db: ParleyDb): Promise<ErasureRecord[]> {
  const rows = await db.meta.where('key').startsWith(ERASURE_KEY_PREFIX).toArray();
  return rows
    .map((row) => row.value as ErasureRecord)
    .filter((record) => !record.dismissed)
    .sort((a, b) => b.erasedAt - a.erasedAt);
}

/** The agent closed the notice: it stays recorded (so the notice stays applied once), not shown. */
export async function dismissErasureNotice(db: ParleyDb, id: string): Promise<void> {
  const key = `${ERASURE_KEY_PREFIX}${id}`;
  await db.transaction('rw', db.meta, async () => {
    const row = await db.meta.get(key);
    if (row) await db.meta.put({ key, value: { ...(row.value as ErasureRecord), dismissed: true } });
  });
}
