import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KEY_BYTES, keyFingerprint, newKey, type Key } from './aead';

/** The master keys a process knows: the first wraps, every one unwraps (during a rotation). */
export interface MasterKeyring {
  readonly current: { readonly id: string; readonly key: Key };
  readonly byId: ReadonlyMap<string, Key>;
  /** Where the keys came from; `file` names the key file. */
  readonly source: { readonly kind: 'env' } | { readonly kind: 'file'; readonly path: string };
}

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/** The key file under DATA_DIR; back it up with the database (docs/decisions/0022). */
export function masterKeyPath(dataDir: string): string {
  return join(dataDir, 'master.key');
}

function parseKeys(text: string, where: string): Key[] {
  const keys = text
    .split(/[\s,]+/)
    .filter((part) => part !== '')
    .map((part) => Buffer.from(part, 'base64'));
  if (keys.length === 0) throw new MasterKeyError(`${where} holds no key`);
  for (const key of keys) {
    if (key.length !== KEY_BYTES) throw new MasterKeyError(`${where}: a master key is 32 bytes in base64`);
  }
  return keys;
}

function ring(keys: Key[], source: MasterKeyring['source']): MasterKeyring {
  const byId = new Map(keys.map((key) => [keyFingerprint(key), key] as const));
  return { current: { id: keyFingerprint(keys[0]!), key: keys[0]! }, byId, source };
}

/**
 * `PARLEY_MASTER_KEY` (base64 32 bytes; during a rotation "new,old"), or else the key file under
 * DATA_DIR, created with mode 0600 on first start. The file holds one key per line, newest first.
 */
export function loadMasterKeyring(env: NodeJS.ProcessEnv, dataDir: string): MasterKeyring {
  const fromEnv = env.PARLEY_MASTER_KEY?.trim();
  if (fromEnv) return ring(parseKeys(fromEnv, 'PARLEY_MASTER_KEY'), { kind: 'env' });
  const path = masterKeyPath(dataDir);
  if (!existsSync(path)) writeKeyFile(path, [newKey()]);
  return ring(parseKeys(readFileSync(path, 'utf8'), path), { kind: 'file', path });
}

/** Writes the key file atomically (a temporary file renamed), readable by its owner only. */
export function writeKeyFile(path: string, keys: readonly Key[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, keys.map((key) => key.toString('base64')).join('\n') + '\n', {
    mode: 0o600,
    flag: 'w',
  });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
