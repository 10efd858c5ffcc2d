import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  contact,
  StreamCategory,
  type Contact,
  type RecordedEvent,
  type StreamId,
  type TenantId,
} from '@parley/domain';
import { Zip, ZipDeflate, ZipPassThrough, type ZipInputFile } from 'fflate';
import type { Attachments, StoredAttachment } from '../attachments';
import { filesNamedIn } from '../attachments/owners';
import { ContactNotFoundError, type ContactSelector } from '../crypto/erasure';
import type { KeyStore } from '../crypto/keys';
import type { SqlEventStore } from '../store/sql-store';

/** What exporting needs of a Parley process (the server's services, or the CLI's own). */
export interface ExportServices {
  readonly store: Pick<SqlEventStore, 'readStream' | 'append'>;
  readonly keys: Pick<KeyStore, 'contactRef' | 'refOfStream' | 'streamsOf'>;
  readonly attachments: Pick<Attachments, 'find' | 'open'>;
}

export interface ExportRequest {
  readonly tenantId: TenantId;
  readonly contact: ContactSelector;
  /** The admin (agent id) or `cli:<user>` who exports. */
  readonly exportedBy: string;
  readonly at: number;
}

/** Where an export is while it streams: after each file it wrote. */
export interface ExportProgress {
  readonly path: string;
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
}

/** One file of the ZIP as the manifest lists it. */
export interface ExportedFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A contact's export, recorded and ready to stream: `zip()` makes the ZIP as it is read. */
export interface ContactExport {
  readonly conversations: readonly string[];
  /** The stream that records the export (`contact-<keyed hash>`). */
  readonly streamId: StreamId;
  /** A download name: `parley-<tenant>-contact-<date>.zip`. */
  readonly fileName: string;
  zip(onProgress?: (progress: ExportProgress) => void): AsyncGenerator<Uint8Array>;
}

export class ExportTooLargeError extends Error {
  override readonly name = 'ExportTooLargeError';
}

/** The manifest's `format`: readers check it before they trust the layout. */
export const EXPORT_FORMAT = 'parley.contact-export.v1';
/**
 * fflate writes no ZIP64: every offset must stay under 4 GiB. The media are counted before anything
 * is recorded or sent, with room left for the JSON files.
 */
const MAX_MEDIA_BYTES = 3_900_000_000;

/**
 * Exports everything Parley holds about a contact (decision 0030): every conversation of theirs
 * with its events opened (or "[erased]" where their key is gone), their notes and the media files
 * those conversations name, with a manifest of the files' SHA-256. Resolving the contact comes
 * first: another tenant's or an unknown id throws `ContactNotFoundError` with nothing recorded.
 * Then `ContactExported` is decided by the contact aggregate (CT4) and appended, before a byte
 * leaves: the audit trail names every export that was started, finished or not.
 */
export async function exportContact(
  services: ExportServices,
  request: ExportRequest,
): Promise<ContactExport> {
  const { tenantId } = request;
  const { ref, conversations } = await contactOf(services, tenantId, request.contact);
  const streamId = `${StreamCategory.contact}-${ref.slice(0, 40)}` as StreamId;
  const media = await mediaOf(services, tenantId, conversations);
  const mediaBytes = media.reduce((sum, file) => sum + file.size, 0);
  if (mediaBytes > MAX_MEDIA_BYTES) {
    throw new ExportTooLargeError(
      `the contact's files take ${mediaBytes} bytes, more than one export holds (${MAX_MEDIA_BYTES})`,
    );
  }
  const events = contact.decide(
    { type: 'ExportContact', data: { exportedBy: request.exportedBy, conversations, at: request.at } },
    contact.initialState(), // CT4 looks only at the command
  );
  await services.store.append(
    tenantId,
    streamId,
    events.map((event) => ({ type: event.type, data: event.data, metadata: { actor: request.exportedBy } })),
    { expectedVersion: 'any' },
  );
  const generatedAt = new Date(request.at).toISOString();
  return {
    conversations,
    streamId,
    fileName: `parley-${tenantId}-contact-${generatedAt.slice(0, 10)}.zip`,
    zip: (onProgress) =>
      zipFiles(
        exportFiles(services, { ...request, streamId, conversations, media, generatedAt }),
        { at: request.at, total: conversations.length + media.length + 2 },
        onProgress,
      ),
  };
}

/** The contact's keyed ref and conversation ids; erased contacts keep both (their keys' rows stay). */
async function contactOf(
  services: ExportServices,
  tenantId: TenantId,
  selector: ContactSelector,
): Promise<{ ref: string; conversations: string[] }> {
  const ref =
    'contactId' in selector
      ? await services.keys.contactRef(tenantId, selector.contactId)
      : await services.keys.refOfStream(
          tenantId,
          `${StreamCategory.conversation}-${selector.conversationId}`,
        );
  const prefix = `${StreamCategory.conversation}-`;
  const conversations =
    ref === undefined
      ? []
      : (await services.keys.streamsOf(tenantId, ref))
          .filter((stream) => stream.startsWith(prefix))
          .map((stream) => stream.slice(prefix.length));
  if (ref === undefined || conversations.length === 0)
    throw new ContactNotFoundError('there is no such contact');
  return { ref, conversations };
}

/**
 * The stored files the conversations name (`attachment:<sha256>` anywhere in an event), in the order
 * first named. A platform's own media reference stays in the conversation's JSON: Parley has no
 * bytes of it. An erased contact's media references read "[erased]", so none is found.
 */
async function mediaOf(
  services: ExportServices,
  tenantId: TenantId,
  conversations: readonly string[],
): Promise<StoredAttachment[]> {
  const hashes = new Set<string>();
  for (const id of conversations) {
    for (const event of await services.store.readStream(tenantId, conversationStream(id))) {
      for (const hash of filesNamedIn(event.data)) hashes.add(hash);
    }
  }
  const found: StoredAttachment[] = [];
  for (const hash of hashes) {
    const attachment = await services.attachments.find(tenantId, hash);
    if (attachment) found.push(attachment);
  }
  return found;
}

/** One file to put in the ZIP: its bytes as they come, and whether deflating them is worth it. */
interface ExportEntry {
  readonly path: string;
  readonly compress: boolean;
  readonly body: () => AsyncIterable<Uint8Array>;
}

/** An event as the export shows it: the type, time and actor, and its data opened. */
function exportedEvent(event: RecordedEvent) {
  return {
    version: event.version,
    eventId: event.eventId,
    type: event.type,
    at: new Date(event.recordedAt).toISOString(),
    actor: event.metadata.actor ?? null,
    data: event.data,
  };
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/**
 * The export's files, made one at a time as the ZIP asks for them: `contact.json`, one JSON per
 * conversation, the media, and `manifest.json` last, because it lists every other file's SHA-256.
 */
async function* exportFiles(
  services: ExportServices,
  plan: ExportRequest & {
    streamId: StreamId;
    conversations: readonly string[];
    media: readonly StoredAttachment[];
    generatedAt: string;
  },
): AsyncGenerator<ExportEntry, void, ExportedFile | undefined> {
  const { tenantId } = plan;
  const files: ExportedFile[] = [];
  const record = (file: ExportedFile | undefined) => {
    if (file) files.push(file);
  };
  let person: Contact | null = null;
  let events = 0;
  for (const id of plan.conversations) {
    const recorded = await services.store.readStream(tenantId, conversationStream(id));
    events += recorded.length;
    const started = recorded.find((event) => event.type === 'ConversationStarted')?.data as
      { inboxId?: string; platform?: string; contact?: Contact } | undefined;
    // The latest name and handle the contact wrote with, as the inbox shows them.
    for (const event of recorded) {
      const named = (event.data as { contact?: Contact }).contact;
      if (named && (event.type === 'ConversationStarted' || event.type === 'InboundMessageReceived'))
        person = named;
    }
    const body = json({
      conversationId: id,
      platform: started?.platform ?? null,
      inboxId: started?.inboxId ?? null,
      events: recorded.map(exportedEvent),
    });
    record(yield { path: `conversations/${id}.json`, compress: true, body: once(body) });
  }

  const own = await services.store.readStream(tenantId, plan.streamId);
  const of = (type: string) => own.filter((event) => event.type === type).map((event) => event.data);
  const notes = of('ContactNoteAdded');
  record(
    yield {
      path: 'contact.json',
      compress: true,
      body: once(
        json({
          contact: person,
          notes,
          erasures: of('ContactErased'),
          exports: of('ContactExported'),
        }),
      ),
    },
  );

  let media = 0;
  for (const attachment of plan.media) {
    const opened = await services.attachments.open(tenantId, attachment.sha256);
    if (!opened) continue; // its row without its bytes: the manifest lists only what was written
    media++;
    record(
      yield {
        path: `media/${attachment.sha256.slice(0, 16)}-${attachment.name}`,
        compress: false, // images, video and audio are compressed already
        body: () => opened.body,
      },
    );
  }

  yield {
    path: 'manifest.json',
    compress: true,
    body: once(
      json({
        format: EXPORT_FORMAT,
        tenant: tenantId,
        contact: { ...(person ?? {}), conversations: plan.conversations, stream: plan.streamId },
        exportedBy: plan.exportedBy,
        generatedAt: plan.generatedAt,
        counts: { conversations: plan.conversations.length, events, notes: notes.length, media },
        files,
      }),
    ),
  };
}

/**
 * Streams entries into one ZIP: each file's chunks go through fflate as they are read and the ZIP's
 * bytes are handed on before the next chunk is read, so memory holds one chunk, not the archive; the
 * reader's pace (an HTTP response, a file) sets the pace. Each entry's size and SHA-256 are sent
 * back into the entries' generator once it is written.
 */
async function* zipFiles(
  entries: AsyncGenerator<ExportEntry, void, ExportedFile | undefined>,
  { at, total }: { at: number; total: number },
  onProgress?: (progress: ExportProgress) => void,
): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else out.push(chunk);
  });
  const flush = function* () {
    if (failure) throw failure;
    while (out.length > 0) yield out.shift()!;
  };
  let written = 0;
  let bytes = 0;
  try {
    let next = await entries.next();
    while (!next.done) {
      const entry = next.value;
      const file: ZipInputFile & { push(chunk: Uint8Array, final?: boolean): void } = entry.compress
        ? new ZipDeflate(entry.path, { level: 6 })
        : new ZipPassThrough(entry.path);
      file.mtime = at;
      zip.add(file);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of entry.body()) {
        hash.update(chunk);
        size += chunk.length;
        file.push(chunk);
        for (const piece of flush()) {
          bytes += piece.length;
          yield piece;
        }
      }
      file.push(new Uint8Array(0), true);
      for (const piece of flush()) {
        bytes += piece.length;
        yield piece;
      }
      written++;
      onProgress?.({ path: entry.path, done: written, total: Math.max(total, written), bytes });
      next = await entries.next({ path: entry.path, bytes: size, sha256: hash.digest('hex') });
    }
    zip.end();
    yield* flush();
  } finally {
    // A reader that stopped early (a closed download) ends the entries too: open files are closed.
    await entries.return(undefined);
  }
}

function once(bytes: Uint8Array): () => AsyncIterable<Uint8Array> {
  return () => Readable.from([bytes]);
}

function conversationStream(id: string): StreamId {
  return `${StreamCategory.conversation}-${id}` as StreamId;
}
