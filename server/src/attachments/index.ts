import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { SqlDriver } from '../db/driver';
import { createAttachments, DEFAULT_ATTACHMENT_MAX_BYTES, type Attachments } from './attachments';
import { diskBlobStore, type BlobStore } from './blob-store';
import { s3BlobStore } from './s3';

export { AttachmentError, AttachmentErrorCode, createAttachments } from './attachments';
export type { Attachments, StoredAttachment } from './attachments';
export { attachmentRoutes } from './routes';

/** Where attachments are stored, from the environment (README's configuration table). */
export type AttachmentStoreConfig =
  | { readonly kind: 'disk'; readonly root: string }
  | {
      readonly kind: 's3';
      readonly endpoint: string;
      readonly bucket: string;
      readonly region: string;
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
    };

/**
 * `PARLEY_ATTACHMENTS=s3` with `PARLEY_S3_ENDPOINT`, `PARLEY_S3_BUCKET`, `PARLEY_S3_REGION` (default
 * us-east-1), `PARLEY_S3_ACCESS_KEY_ID` and `PARLEY_S3_SECRET_ACCESS_KEY`; otherwise files under
 * DATA_DIR/attachments. `PARLEY_ATTACHMENT_MAX_BYTES` bounds one file (default 100 MB).
 */
export function loadAttachmentsConfig(
  env: NodeJS.ProcessEnv,
  dataDir: string,
): { readonly store: AttachmentStoreConfig; readonly maxBytes: number } {
  const maxText = env.PARLEY_ATTACHMENT_MAX_BYTES?.trim();
  const maxBytes = maxText ? Number(maxText) : DEFAULT_ATTACHMENT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new Error(
      `PARLEY_ATTACHMENT_MAX_BYTES must be a whole number of bytes, got ${JSON.stringify(maxText)}`,
    );
  }
  const kind = env.PARLEY_ATTACHMENTS?.trim() || 'disk';
  if (kind === 'disk') return { store: { kind, root: join(dataDir, 'attachments') }, maxBytes };
  if (kind !== 's3') throw new Error(`PARLEY_ATTACHMENTS must be disk or s3, got ${JSON.stringify(kind)}`);
  const need = (name: string) => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} must be set when PARLEY_ATTACHMENTS=s3`);
    return value;
  };
  return {
    store: {
      kind,
      endpoint: need('PARLEY_S3_ENDPOINT'),
      bucket: need('PARLEY_S3_BUCKET'),
      region: env.PARLEY_S3_REGION?.trim() || 'us-east-1',
      accessKeyId: need('PARLEY_S3_ACCESS_KEY_ID'),
      secretAccessKey: need('PARLEY_S3_SECRET_ACCESS_KEY'),
    },
    maxBytes,
  };
}

/** The blob store a configuration names. */
export function blobStoreOf(config: AttachmentStoreConfig): BlobStore {
  return config.kind === 'disk' ? diskBlobStore(config.root) : s3BlobStore(config);
}

/** The attachment service of a process: its store, its incoming folder under DATA_DIR, its link key. */
export function openAttachments(options: {
  readonly sql: SqlDriver;
  readonly dataDir: string;
  readonly masterKey: Buffer;
  readonly env?: NodeJS.ProcessEnv;
}): Attachments {
  const config = loadAttachmentsConfig(options.env ?? process.env, options.dataDir);
  return createAttachments({
    sql: options.sql,
    store: blobStoreOf(config.store),
    incomingDir: join(options.dataDir, 'attachments', '.incoming'),
    // Links outlive no master key: a rotation ends them, as it should a leaked one.
    linkKey: createHmac('sha256', options.masterKey).update('parley attachment links').digest(),
    maxBytes: config.maxBytes,
  });
}
