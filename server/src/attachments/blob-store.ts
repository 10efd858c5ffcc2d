import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where attachment bytes live, by key (`<tenant>/<aa>/<sha256>`). Keys are content addresses, so
 * a second `put` of a key holds the same bytes and may be skipped.
 */
export interface BlobStore {
  readonly kind: 'disk' | 's3';
  /** Stores the file at `path` (a finished upload on local disk) under `key`; `sha256` is its hash. */
  put(key: string, path: string, size: number, sha256: string): Promise<void>;
  /** The bytes under `key`, or null when nothing is stored there. */
  get(key: string): Promise<Readable | null>;
  has(key: string): Promise<boolean>;
  /** Removes the bytes under `key`; nothing stored there is no error (a retried delete succeeds). */
  delete(key: string): Promise<void>;
}

/** The embedded default: files under `root` (DATA_DIR/attachments), moved into place once whole. */
export function diskBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => join(root, ...key.split('/'));
  const has = async (key: string) => {
    try {
      return (await stat(pathOf(key))).isFile();
    } catch {
      return false;
    }
  };
  return {
    kind: 'disk',
    has,
    async put(key, path) {
      const target = pathOf(key);
      if (await has(key)) {
        await unlink(path).catch(() => undefined);
        return;
      }
      await mkdir(dirname(target), { recursive: true });
      // A rename within one file system is atomic: a reader sees no file or the whole file.
      await rename(path, target);
    },
    async get(key) {
      if (!(await has(key))) return null;
      return createReadStream(pathOf(key));
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
