import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  attachmentUrl,
  mediaKindOf,
  sniffMime,
  tenantId as checkTenantId,
  UNKNOWN_MIME,
  type MediaKind,
  type TenantId,
} from '@parley/domain';
import type { SqlDriver } from '../db/driver';
import { withTenant } from '../auth/tenant-scope';
import type { BlobStore } from './blob-store';
import { createFileEraser, type FileEraser } from './erase-files';

/** Refusal codes of the attachment routes and of a reply naming an attachment. */
export const AttachmentErrorCode = {
  ATTACHMENT_TOO_LARGE: 'ATTACHMENT_TOO_LARGE',
  ATTACHMENT_EMPTY: 'ATTACHMENT_EMPTY',
  ATTACHMENT_TYPE_UNKNOWN: 'ATTACHMENT_TYPE_UNKNOWN',
  ATTACHMENT_HASH_MISMATCH: 'ATTACHMENT_HASH_MISMATCH',
  ATTACHMENT_NOT_FOUND: 'ATTACHMENT_NOT_FOUND',
  ATTACHMENT_MISMATCH: 'ATTACHMENT_MISMATCH',
} as const;
export type AttachmentErrorCode = (typeof AttachmentErrorCode)[keyof typeof AttachmentErrorCode];

export class AttachmentError extends Error {
  override readonly name = 'AttachmentError';
  constructor(
    readonly code: AttachmentErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A stored file as the API describes it; `url` is what a reply's media carries. */
export interface StoredAttachment {
  readonly sha256: string;
  readonly mime: string;
  readonly size: number;
  readonly kind: MediaKind;
  readonly name: string;
  readonly url: string;
}

/** 100 MB: WhatsApp's document limit, the largest any platform takes (rule WA5). */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 100_000_000;
/** How long a signed link for a platform to fetch a file stays valid. */
export const LINK_TTL_MS = 60 * 60 * 1000;
const SNIFF_BYTES = 512;

export interface AttachmentsOptions {
  readonly sql: SqlDriver;
  readonly store: BlobStore;
  /** Where uploads are written while they stream in (DATA_DIR/attachments/.incoming). */
  readonly incomingDir: string;
  /** The key signed links are made with (derived from the master key). */
  readonly linkKey: Buffer;
  readonly maxBytes?: number;
  readonly clock?: () => number;
}

/**
 * Stores agents' and customers' files per tenant, content-addressed, makes links to them, and
 * deletes the bytes of the files an erased contact's conversations alone named (`FileEraser`).
 */
export interface Attachments extends FileEraser {
  readonly maxBytes: number;
  readonly storeKind: BlobStore['kind'];
  /**
   * Streams `body` to disk, hashing and counting it (refused once over `maxBytes`), reads its type
   * from its first bytes (PL5), then stores it under the tenant. `expectedSha256` (an upload by
   * hash) must match. Uploading the same bytes again returns the stored attachment.
   */
  upload(
    tenantId: TenantId,
    body: Readable,
    file: { readonly claimedMime?: string; readonly name?: string; readonly expectedSha256?: string },
  ): Promise<StoredAttachment>;
  /** The tenant's attachment of that hash, or null (another tenant's answers null too). */
  find(tenantId: TenantId, sha256: string): Promise<StoredAttachment | null>;
  /** The bytes of the tenant's attachment, or null. */
  open(tenantId: TenantId, sha256: string): Promise<{ attachment: StoredAttachment; body: Readable } | null>;
  /** A path with an expiring signature that lets a platform fetch the file without a session. */
  linkPath(tenantId: string, sha256: string): string;
  /** The tenant and hash a signed link names, or null when its signature is wrong or expired. */
  verifyLink(tenantId: string, sha256: string, expires: string, signature: string): boolean;
}

const HASH = /^[0-9a-f]{64}$/;

/** Creates the attachment service over a blob store and the `attachments` table. */
export function createAttachments(options: AttachmentsOptions): Attachments {
  const clock = options.clock ?? Date.now;
  const maxBytes = options.maxBytes ?? DEFAULT_ATTACHMENT_MAX_BYTES;
  const keyOf = (tenantId: string, sha256: string) => `${tenantId}/${sha256.slice(0, 2)}/${sha256}`;
  const sign = (tenantId: string, sha256: string, expires: string) =>
    createHmac('sha256', options.linkKey).update(`${tenantId}\n${sha256}\n${expires}`).digest('base64url');

  async function find(tenantId: TenantId, sha256: string): Promise<StoredAttachment | null> {
    if (!HASH.test(sha256)) return null;
    const rows = await withTenant(options.sql, tenantId, (tx) =>
      tx.query<{ mime: string; size: string | number; name: string }>(
        'SELECT mime, size, name FROM attachments WHERE tenant_id = $1 AND sha256 = $2',
        [tenantId, sha256],
      ),
    );
    const row = rows[0];
    return row ? describe(sha256, row.mime, Number(row.size), row.name) : null;
  }

  const eraser = createFileEraser(options.sql, options.store, keyOf);

  return {
    ...eraser,
    maxBytes,
    storeKind: options.store.kind,
    find,
    async upload(tenantId, body, file) {
      const tenant = checkTenantId(tenantId);
      await mkdir(options.incomingDir, { recursive: true });
      const path = join(options.incomingDir, randomBytes(12).toString('hex'));
      const hash = createHash('sha256');
      const head: Buffer[] = [];
      let size = 0;
      let headBytes = 0;
      try {
        await pipeline(
          body,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              size += chunk.length;
              // Counted as it streams: a body without a Content-Length is cut off here too.
              if (size > maxBytes) {
                throw new AttachmentError(
                  AttachmentErrorCode.ATTACHMENT_TOO_LARGE,
                  `the file is over ${maxBytes} bytes, the largest Parley stores`,
                  413,
                );
              }
              if (headBytes < SNIFF_BYTES) {
                head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
                headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
              }
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(path),
        );
        if (size === 0) {
          throw new AttachmentError(AttachmentErrorCode.ATTACHMENT_EMPTY, 'the file is empty', 400);
        }
        const sha256 = hash.digest('hex');
        if (file.expectedSha256 !== undefined && file.expectedSha256 !== sha256) {
          throw new AttachmentError(
            AttachmentErrorCode.ATTACHMENT_HASH_MISMATCH,
            'the file does not match the hash it was uploaded under; upload it again',
            400,
          );
        }
        // PL5: the type is the bytes', whatever the browser or the name said.
        const mime = sniffMime(Buffer.concat(head), file.claimedMime);
        if (mime === UNKNOWN_MIME) {
          throw new AttachmentError(
            AttachmentErrorCode.ATTACHMENT_TYPE_UNKNOWN,
            'the file is of a type Parley cannot send: use an image, a video, audio, a PDF, an Office file or plain text',
            415,
          );
        }
        const existing = await find(tenant, sha256);
        if (existing) return existing;
        // The same bytes, erased with a contact and not yet deleted: deleted first, or the put
        // would keep the old copy and the queued delete take the new one.
        await eraser.drain(tenant, [sha256]);
        await options.store.put(keyOf(tenant, sha256), path, size, sha256);
        const name = cleanName(file.name, sha256);
        await withTenant(options.sql, tenant, (tx) =>
          tx.query(
            `INSERT INTO attachments (tenant_id, sha256, mime, size, name) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, sha256) DO NOTHING`,
            [tenant, sha256, mime, size, name],
          ),
        );
        return (await find(tenant, sha256))!;
      } finally {
        await unlink(path).catch(() => undefined);
      }
    },
    async open(tenantId, sha256) {
      const attachment = await find(tenantId, sha256);
      if (!attachment) return null;
      const body = await options.store.get(keyOf(tenantId, sha256));
      return body ? { attachment, body } : null;
    },
    linkPath(tenantId, sha256) {
      const expires = String(Math.floor((clock() + LINK_TTL_MS) / 1000));
      return `/api/attachments/link/${encodeURIComponent(tenantId)}/${sha256}?expires=${expires}&sig=${sign(tenantId, sha256, expires)}`;
    },
    verifyLink(tenantId, sha256, expires, signature) {
      if (!HASH.test(sha256) || !/^\d{1,12}$/.test(expires)) return false;
      if (Number(expires) * 1000 < clock()) return false;
      const wanted = Buffer.from(sign(tenantId, sha256, expires));
      const given = Buffer.from(signature);
      return wanted.length === given.length && timingSafeEqual(wanted, given);
    },
  };
}

function describe(sha256: string, mime: string, size: number, name: string): StoredAttachment {
  return { sha256, mime, size, name, kind: mediaKindOf(mime), url: attachmentUrl(sha256) };
}

/** A file name fit for a header: no path, no control characters, at most 200 characters. */
function cleanName(name: string | undefined, sha256: string): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .filter((c) => c !== '"' && c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 200);
  return clean || `file-${sha256.slice(0, 12)}`;
}
