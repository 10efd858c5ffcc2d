import { isTenantId } from '@parley/domain';
import { createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openAttachments } from '../attachments';
import type { Database } from '../db/database';
import type { ProgressOutput } from '../projections/cli';
import { exportContact } from './export';
import { openSealedStore } from '../crypto/open-store';

export const CONTACTS_EXPORT_USAGE = `  contacts export --tenant <id> (--contact <platform id> | --conversation <id>) --out <file.zip>
                            write everything Parley holds about a contact (conversations opened,
                            notes, media, manifest.json) as a ZIP; recorded as ContactExported;
                            progress on stderr`;

interface Host {
  readonly dataDir: string;
  withDb(fn: (db: Database) => Promise<void>): Promise<void>;
}

/**
 * `contacts export` (docs/decisions/0030): the same export as `POST /api/contacts/export`, written
 * to `<out>.part` while it streams and renamed to `<out>` once complete, so a failed export leaves
 * no file that looks whole. Recorded as exported by `cli:<user>`.
 */
export async function runContactsExportCommand(
  host: Host,
  options: { tenant?: string; contact?: string; conversation?: string; out?: string },
  print: (line: string) => void,
  progress: ProgressOutput | undefined,
  usage: (message: string) => Error,
): Promise<void> {
  const { tenant, contact, conversation, out } = options;
  if (!tenant || !isTenantId(tenant) || !out || (contact === undefined) === (conversation === undefined)) {
    throw usage(
      'usage: contacts export --tenant <id> (--contact <platform id> | --conversation <id>) --out <file.zip>',
    );
  }
  const target = resolve(callerDir(), out);
  const partial = `${target}.part`;
  await host.withDb(async (db) => {
    const { ring, keys, store } = await openSealedStore(db, host.dataDir);
    try {
      const attachments = openAttachments({
        sql: db.sql,
        dataDir: host.dataDir,
        masterKey: ring.current.key,
      });
      const exported = await exportContact(
        { store, keys, attachments },
        {
          tenantId: tenant,
          contact: contact !== undefined ? { contactId: contact } : { conversationId: conversation! },
          exportedBy: `cli:${process.env.USER ?? 'unknown'}`,
          at: Date.now(),
        },
      );
      const say = (line: string) => (progress ? progress.write(`${line}\n`) : print(line));
      try {
        await pipeline(
          Readable.from(
            exported.zip((p) => say(`  ${p.done}/${p.total} ${p.path} (${p.bytes} bytes written)`)),
          ),
          createWriteStream(partial, { mode: 0o600 }),
        );
        await rename(partial, target);
      } catch (error) {
        await unlink(partial).catch(() => undefined);
        throw error;
      }
      const { size } = await stat(target);
      print(
        `exported ${exported.conversations.length} conversation(s) to ${target} (${size} bytes); recorded on ${exported.streamId}`,
      );
    } finally {
      await store.close();
    }
  });
}

/**
 * The command line with `--out` made absolute: a running server writes the file for a command sent
 * over its admin socket, from its own working directory.
 */
export function withAbsoluteOut(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    if (arg.startsWith('--out=')) return `--out=${resolve(callerDir(), arg.slice('--out='.length))}`;
    return argv[i - 1] === '--out' ? resolve(callerDir(), arg) : arg;
  });
}

/** Where the person ran the command: `npm run` starts scripts in the package's folder, not theirs. */
export function callerDir(): string {
  return process.env.INIT_CWD || process.cwd();
}
