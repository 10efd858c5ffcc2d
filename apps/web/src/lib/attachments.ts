import {
  attachmentHash,
  attachmentUrl,
  checkAttachment,
  sniffMime,
  type MediaRef,
  type PlatformPolicy,
} from '@parley/domain';
import type { OutboxRow, ParleyDb } from './db/schema';

/** A file the agent attached, kept on this device until the server has it (`meta` row `file:<sha256>`). */
export interface LocalFile {
  readonly sha256: string;
  readonly blob: Blob;
  readonly name: string;
  readonly mime: string;
  readonly size: number;
}

/** The largest file the server stores (PARLEY_ATTACHMENT_MAX_BYTES's default: WhatsApp's documents). */
export const MAX_FILE_BYTES = 100_000_000;

const keyOf = (sha256: string) => `file:${sha256}`;

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Reads a picked file as the server will: its type from its first bytes (rule PL5), its kind and
 * the platform's limits (PL6 and the platform's media rule), its SHA-256 (the name it is stored
 * under). A refusal is a sentence for the agent.
 */
export async function readPickedFile(
  file: File,
  policy: PlatformPolicy,
): Promise<{ ok: true; file: LocalFile; media: MediaRef } | { ok: false; message: string }> {
  if (file.size === 0) return { ok: false, message: `${file.name} is empty.` };
  if (file.size > MAX_FILE_BYTES) {
    return { ok: false, message: `${file.name} is over 100 MB, the largest file Parley sends.` };
  }
  const bytes = await file.arrayBuffer();
  const mime = sniffMime(new Uint8Array(bytes, 0, Math.min(512, bytes.byteLength)), file.type);
  const check = checkAttachment(policy, { mime, size: file.size });
  if (!check.ok)
    return { ok: false, message: `${file.name} cannot be sent: ${check.message}; ${check.hint}.` };
  const sha256 = await sha256Hex(bytes);
  return {
    ok: true,
    file: { sha256, blob: new Blob([bytes], { type: mime }), name: file.name, mime, size: file.size },
    media: { kind: check.kind, url: attachmentUrl(sha256), mime, size: file.size },
  };
}

/** Keeps a file on this device until the outbox has uploaded it. */
export async function keepFile(db: ParleyDb, file: LocalFile): Promise<void> {
  await db.meta.put({ key: keyOf(file.sha256), value: file });
}

/** The file kept on this device under that hash, if it is still waiting to be uploaded. */
export async function localFile(db: ParleyDb, sha256: string): Promise<LocalFile | undefined> {
  return (await db.meta.get(keyOf(sha256)))?.value as LocalFile | undefined;
}

/** The URL the PWA shows a stored file from (the session's tenant only). */
export function fileUrl(sha256: string): string {
  return `/api/attachments/${sha256}`;
}

/**
 * Before a batch leaves: uploads the files its replies carry that still wait on this device, by
 * hash (`PUT /api/attachments/<sha256>`: the server keeps one copy however often it is sent, and
 * answers at once for a file it has). A network failure or a 5xx throws, and the outbox tries the
 * batch again later; any other answer lets the batch go, and the server decides the reply.
 */
export async function uploadFilesOf(
  db: ParleyDb,
  rows: readonly OutboxRow[],
  signal?: AbortSignal,
  send: typeof fetch = fetch,
): Promise<void> {
  for (const row of rows) {
    const { command } = row;
    if (command.type !== 'QueueReply' || command.content.type !== 'media') continue;
    const hash = attachmentHash(command.content.media.url);
    if (hash === null) continue;
    const file = await localFile(db, hash);
    if (!file) continue;
    const response = await send(`/api/attachments/${hash}`, {
      method: 'PUT',
      headers: { 'x-file-name': encodeURIComponent(file.name) },
      body: file.blob,
      credentials: 'same-origin',
      signal,
    });
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      throw new Error(`the file upload answered ${response.status}`);
    }
    if (response.ok) await db.meta.delete(keyOf(hash));
  }
}
