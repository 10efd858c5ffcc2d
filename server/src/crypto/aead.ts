import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A 256-bit AES key. */
export type Key = Buffer;

/** What one AES-256-GCM seal produces: a 96-bit nonce and the ciphertext with its 128-bit tag. */
export interface Sealed {
  readonly iv: string;
  readonly ct: string;
}

export const KEY_BYTES = 32;

export function newKey(): Key {
  return randomBytes(KEY_BYTES);
}

/** Random nonces drawn in bulk: one `randomBytes` call per 4096 seals instead of one each. */
let nonces = Buffer.alloc(0);
let nextNonce = 0;
function freshNonce(): Buffer {
  if (nextNonce + 12 > nonces.length) {
    nonces = randomBytes(12 * 4096);
    nextNonce = 0;
  }
  const iv = nonces.subarray(nextNonce, nextNonce + 12);
  nextNonce += 12;
  return iv;
}

/** Seals `plain` under `key`; `aad` (tenant, contact, key id) is authenticated, not stored. */
export function seal(key: Key, plain: Buffer, aad: string): Sealed {
  const iv = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return { iv: iv.toString('base64'), ct: ct.toString('base64') };
}

/**
 * Seals `plain` (UTF-8) under `key` into one buffer: `header`, the 12-byte nonce, the ciphertext and its
 * 16-byte tag (the compact form of the event codec, decision 0034). `aad` is authenticated, not stored.
 */
export function sealInto(header: Buffer, key: Key, plain: string, aad: Buffer): Buffer {
  const iv = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  return Buffer.concat([header, iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

/** Opens what `sealInto` made, its nonce starting at `offset`; throws like `open`. */
export function openFrom(key: Key, sealed: Buffer, offset: number, aad: Buffer): Buffer {
  if (sealed.length < offset + 12 + 16) throw new Error('malformed ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(offset, offset + 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(offset + 12, sealed.length - 16)), decipher.final()]);
}

/** Opens a seal; throws when the key, the AAD or a byte of the ciphertext is wrong. */
export function open(key: Key, sealed: Sealed, aad: string): Buffer {
  const iv = Buffer.from(sealed.iv, 'base64');
  const all = Buffer.from(sealed.ct, 'base64');
  if (iv.length !== 12 || all.length < 16) throw new Error('malformed ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(all.subarray(all.length - 16));
  return Buffer.concat([decipher.update(all.subarray(0, all.length - 16)), decipher.final()]);
}

/** A short public name for a key: the first 8 bytes of its SHA-256, in hex. */
export function keyFingerprint(key: Key): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
