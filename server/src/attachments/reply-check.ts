import { attachmentHash, DomainError, type ClientCommand } from '@parley/domain';
import type { SqlQueryable } from '../db/driver';
import { AttachmentErrorCode } from './attachments';

/** What the server stored of each file a batch's replies name (by hash; a missing one is absent). */
export type StoredFiles = ReadonlyMap<string, { readonly mime: string; readonly size: number }>;

/** The hashes of the stored files a batch's replies carry. */
export function filesNamedBy(commands: readonly { readonly command: ClientCommand }[]): string[] {
  const hashes = new Set<string>();
  for (const { command } of commands) {
    if (command.type !== 'QueueReply' || command.content.type !== 'media') continue;
    const hash = attachmentHash(command.content.media.url);
    if (hash) hashes.add(hash);
  }
  return [...hashes];
}

/** Reads, in the tenant's transaction, the files of these hashes the tenant stored. */
export async function loadStoredFiles(tx: SqlQueryable, hashes: readonly string[]): Promise<StoredFiles> {
  if (hashes.length === 0) return new Map();
  const rows = await tx.query<{ sha256: string; mime: string; size: string | number }>(
    'SELECT sha256, mime, size FROM attachments WHERE sha256 = ANY($1::text[])',
    [hashes],
  );
  return new Map(rows.map((row) => [row.sha256, { mime: row.mime, size: Number(row.size) }]));
}

/** A reply's file an erasure deleted between the reply's check and its commit (decision 0022). */
export function replyFileErased(): DomainError {
  return new DomainError(
    AttachmentErrorCode.ATTACHMENT_NOT_FOUND,
    'the attached file was deleted with an erased contact while the reply was sent',
    { hint: 'attach the file again' },
  );
}

/**
 * A media reply naming a stored file (`attachment:<sha256>`) must name one this tenant uploaded,
 * with the type and size the server read from its bytes: the platform limits (WA5, MS5, ...) are
 * then checked by the decider on what is really stored, not on what the device claimed. A link
 * (https, S18) is the platform's to fetch and is left as it is.
 */
export function checkReplyFile(command: ClientCommand, files: StoredFiles): void {
  if (command.type !== 'QueueReply' || command.content.type !== 'media') return;
  const { media } = command.content;
  const hash = attachmentHash(media.url);
  if (hash === null) return;
  const stored = files.get(hash);
  if (!stored) {
    throw new DomainError(
      AttachmentErrorCode.ATTACHMENT_NOT_FOUND,
      'the attached file was not uploaded to Parley',
      { hint: 'attach the file again' },
    );
  }
  if (stored.mime !== media.mime || stored.size !== media.size) {
    throw new DomainError(
      AttachmentErrorCode.ATTACHMENT_MISMATCH,
      `the attached file is ${stored.mime} of ${stored.size} bytes, not ${media.mime} of ${media.size}`,
      { hint: 'attach the file again' },
    );
  }
}
