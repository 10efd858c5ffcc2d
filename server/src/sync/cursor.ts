import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Checkpoint, TenantId } from '@parley/domain';
import type { Database } from '../db/database';
import { formatCheckpoint, parseCheckpoint } from '../store/checkpoint';

/**
 * A sync cursor is `<epoch>.<sealed>`: the epoch of the database that issued it, in clear, so a
 * cursor from another database is recognised; then the store's gap-safe checkpoint
 * (`<txid>:<position>`, docs/decisions/0003) sealed with AES-256-GCM under a key of this tenant
 * (docs/decisions/0016). The checkpoint's numbers count every tenant's transactions and events, so
 * a client never sees them: it cannot read, compare or forge a position. Clients treat it as opaque.
 */
const FORMAT = /^([0-9a-f]{1,32})\.([A-Za-z0-9_-]{59})$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Transaction id and position, 8 bytes each, so every sealed cursor has the same length. */
const PLAIN_BYTES = 16;
const MAX_U64 = (1n << 64n) - 1n;

/** What a client's cursor turned out to be. */
export type OpenedCursor =
  | { readonly kind: 'checkpoint'; readonly checkpoint: Checkpoint }
  /** Not a cursor at all (an old client's `<epoch>.<txid>:<position>` among them). */
  | { readonly kind: 'malformed' }
  /** Issued by another database. */
  | { readonly kind: 'foreign' }
  /** The right shape and epoch, but not sealed by this server for this tenant: edited, forged or another tenant's. */
  | { readonly kind: 'forged' };

/** Seals one tenant's checkpoints into cursors and opens them again. */
export interface TenantCursors {
  readonly epoch: string;
  seal(checkpoint: Checkpoint): string;
  open(cursor: string): OpenedCursor;
}

interface TenantKeys {
  readonly cipher: Buffer;
  /** Makes the IV from the plaintext (SIV-style): the same checkpoint always seals the same way. */
  readonly iv: Buffer;
}

interface Sealer {
  readonly epoch: string;
  readonly secret: Buffer;
  readonly tenants: Map<TenantId, TenantCursors>;
}

const sealers = new WeakMap<Database, Promise<Sealer>>();
const epochs = new WeakMap<Database, Promise<string>>();

/** The epoch of this database's log (made once by the accounts migration). */
export function syncEpoch(db: Database): Promise<string> {
  let epoch = epochs.get(db);
  if (!epoch) {
    epoch = db.sql.query<{ epoch: string }>('SELECT epoch FROM sync_epoch').then((rows) => {
      if (!rows[0]) throw new Error('sync_epoch is empty: the accounts migration did not run');
      return rows[0].epoch;
    });
    epoch.catch(() => epochs.delete(db));
    epochs.set(db, epoch);
  }
  return epoch;
}

/** The cursors of one tenant of this database, with keys derived from the database's cursor secret. */
export async function tenantCursors(db: Database, tenantId: TenantId): Promise<TenantCursors> {
  let sealer = sealers.get(db);
  if (!sealer) {
    sealer = (async () => ({
      epoch: await syncEpoch(db),
      secret: await cursorSecret(db),
      tenants: new Map(),
    }))();
    sealer.catch(() => sealers.delete(db));
    sealers.set(db, sealer);
  }
  const { epoch, secret, tenants } = await sealer;
  let cursors = tenants.get(tenantId);
  if (!cursors) {
    cursors = makeTenantCursors(epoch, deriveKeys(secret, epoch, tenantId));
    tenants.set(tenantId, cursors);
  }
  return cursors;
}

/**
 * The secret every cursor key derives from: made once per database (by whichever process gets
 * there first) and kept in `sync_cursor_key`, so cursors survive restarts and work on every process
 * of a PostgreSQL deployment. Only the owner role reads it; `parley_app` has no grant.
 */
async function cursorSecret(db: Database): Promise<Buffer> {
  const read = () => db.sql.query<{ secret: string }>('SELECT secret FROM sync_cursor_key');
  let rows = await read();
  if (!rows[0]) {
    await db.sql.query('INSERT INTO sync_cursor_key (secret) VALUES ($1) ON CONFLICT DO NOTHING', [
      randomBytes(32).toString('hex'),
    ]);
    rows = await read();
  }
  if (!rows[0] || !/^[0-9a-f]{64}$/.test(rows[0].secret)) {
    throw new Error('sync_cursor_key holds no 32-byte secret: the cursor key migration did not run');
  }
  return Buffer.from(rows[0].secret, 'hex');
}

function deriveKeys(secret: Buffer, epoch: string, tenantId: TenantId): TenantKeys {
  const keys = Buffer.from(hkdfSync('sha256', secret, epoch, `parley sync cursor v1\u0000${tenantId}`, 64));
  return { cipher: keys.subarray(0, 32), iv: keys.subarray(32) };
}

function makeTenantCursors(epoch: string, keys: TenantKeys): TenantCursors {
  const aad = Buffer.from(epoch);
  return {
    epoch,
    seal(checkpoint) {
      const { tx, position } = parseCheckpoint(checkpoint);
      if (tx > MAX_U64 || position > MAX_U64)
        throw new RangeError(`checkpoint ${checkpoint} exceeds 64 bits`);
      const plain = Buffer.alloc(PLAIN_BYTES);
      plain.writeBigUInt64BE(tx, 0);
      plain.writeBigUInt64BE(position, 8);
      const iv = createHmac('sha256', keys.iv).update(plain).digest().subarray(0, IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keys.cipher, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad);
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return `${epoch}.${sealed.toString('base64url')}`;
    },
    open(cursor) {
      const match = FORMAT.exec(cursor);
      if (!match) return { kind: 'malformed' };
      if (match[1] !== epoch) return { kind: 'foreign' };
      const sealed = Buffer.from(match[2]!, 'base64url');
      if (sealed.length !== IV_BYTES + PLAIN_BYTES + TAG_BYTES) return { kind: 'malformed' };
      // Base64 has spare bits in its last character: another spelling of the same bytes is an edit.
      if (sealed.toString('base64url') !== match[2]) return { kind: 'forged' };
      try {
        const decipher = createDecipheriv('aes-256-gcm', keys.cipher, sealed.subarray(0, IV_BYTES), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aad);
        decipher.setAuthTag(sealed.subarray(IV_BYTES + PLAIN_BYTES));
        const plain = Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, IV_BYTES + PLAIN_BYTES)),
          decipher.final(),
        ]);
        return {
          kind: 'checkpoint',
          checkpoint: formatCheckpoint(plain.readBigUInt64BE(0), plain.readBigUInt64BE(8)),
        };
      } catch {
        return { kind: 'forged' };
      }
    },
  };
}
