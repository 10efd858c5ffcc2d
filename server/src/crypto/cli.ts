import { isTenantId } from '@parley/domain';
import { openAttachments } from '../attachments';
import type { Database } from '../db/database';
import { keyFingerprint, newKey } from './aead';
import { eraseContact } from './erasure';
import { sweepRetention } from './retention';
import { KeyStore } from './keys';
import { loadMasterKeyring, writeKeyFile } from './master-key';
import { createSecretBox, type SecretBox } from './secrets';
import { openSealedStore } from './open-store';

export const CRYPTO_USAGE = `  keys rotate-master        seal every tenant key with a new master key while Parley runs: with the
                            key file (DATA_DIR/master.key) a new key is made and the old one retired;
                            with PARLEY_MASTER_KEY="<new>,<old>" the tenant keys move to <new>
  contacts erase --tenant <id> (--contact <platform id> | --conversation <id>) --reason <why>
                            crypto-shred a contact: destroy their keys, record ContactErased
  retention sweep --tenant <id>
                            make the tenant's message content older than its retention unreadable
                            now (the server does it hourly): destroy the keys of the weeks past it`;

interface Host {
  readonly dataDir: string;
  withDb(fn: (db: Database) => Promise<void>): Promise<void>;
}

/** `keys rotate-master` (docs/decisions/0022). */
export async function runKeysCommand(
  host: Host,
  rest: readonly string[],
  print: (line: string) => void,
  usage: (message: string) => Error,
): Promise<void> {
  if (rest[0] !== 'rotate-master') throw usage('usage: keys rotate-master');
  await host.withDb(async (db) => {
    let ring = loadMasterKeyring(process.env, host.dataDir);
    if (ring.source.kind === 'file') {
      // The new key goes first, the old ones stay until every tenant key is sealed by the new one.
      const fresh = newKey();
      writeKeyFile(ring.source.path, [fresh, ...ring.byId.values()]);
      ring = loadMasterKeyring(process.env, host.dataDir);
      print(
        `new master key ${keyFingerprint(fresh)} written to ${ring.source.kind === 'file' ? ring.source.path : ''}`,
      );
    }
    const keys = new KeyStore(db.sql, ring);
    const moved = await keys.rewrapTenantKeys();
    const left = await keys.tenantKeysOnOldMasters();
    print(
      `${moved} tenant key(s) sealed again by master key ${keys.masterKeyId}; ${left} left on older keys`,
    );
    if (left > 0) throw new Error('some tenant keys are still sealed by an older master key: run it again');
    if (ring.source.kind === 'file') {
      writeKeyFile(ring.source.path, [ring.current.key]);
      print('older master keys retired from the key file: back up the new file now');
    } else if (ring.byId.size > 1) {
      print('remove the older keys from PARLEY_MASTER_KEY on every process');
    }
  });
}

/** `contacts erase` (docs/decisions/0022). */
export async function runContactsCommand(
  host: Host,
  rest: readonly string[],
  options: { tenant?: string; contact?: string; conversation?: string; reason?: string },
  print: (line: string) => void,
  usage: (message: string) => Error,
): Promise<void> {
  const { tenant, contact, conversation, reason } = options;
  if (
    rest[0] !== 'erase' ||
    !tenant ||
    !isTenantId(tenant) ||
    reason === undefined ||
    (contact === undefined) === (conversation === undefined)
  ) {
    throw usage(
      'usage: contacts erase --tenant <id> (--contact <platform id> | --conversation <id>) --reason <why>',
    );
  }
  await host.withDb(async (db) => {
    const { ring, keys, store } = await openSealedStore(db, host.dataDir);
    try {
      const attachments = openAttachments({
        sql: db.sql,
        dataDir: host.dataDir,
        masterKey: ring.current.key,
      });
      const result = await eraseContact(
        { db, store, keys, attachments },
        {
          tenantId: tenant,
          contact: contact !== undefined ? { contactId: contact } : { conversationId: conversation! },
          reason,
          erasedBy: `cli:${process.env.USER ?? 'unknown'}`,
          at: Date.now(),
        },
      );
      print(
        `erased: ${result.keysDestroyed} key(s) destroyed, ${result.filesDeleted} file(s) deleted, conversations ${result.conversations.join(', ')}; recorded on ${result.streamId}`,
      );
    } finally {
      await store.close();
    }
  });
}

/** `retention sweep` (docs/decisions/0031). */
export async function runRetentionCommand(
  host: Host,
  rest: readonly string[],
  tenant: string | undefined,
  print: (line: string) => void,
  usage: (message: string) => Error,
): Promise<void> {
  if (rest[0] !== 'sweep' || rest.length > 1 || !tenant || !isTenantId(tenant))
    throw usage('usage: retention sweep --tenant <id>');
  await host.withDb(async (db) => {
    const { ring, keys, store } = await openSealedStore(db, host.dataDir);
    try {
      const attachments = openAttachments({
        sql: db.sql,
        dataDir: host.dataDir,
        masterKey: ring.current.key,
      });
      const result = await sweepRetention({ db, store, keys, attachments }, tenant, Date.now());
      print(
        result.days === null
          ? `${tenant} keeps message content for ever: nothing to sweep`
          : `${tenant} keeps message content ${result.days} day(s): ${result.keysDestroyed} key(s) of the weeks through ${result.through} destroyed in ${result.conversations} conversation(s)`,
      );
    } finally {
      await store.close();
    }
  });
}

/** The secret box of a CLI command: the same key hierarchy the server uses. */
export function secretBox(db: Database, dataDir: string): SecretBox {
  return createSecretBox(new KeyStore(db.sql, loadMasterKeyring(process.env, dataDir)));
}
