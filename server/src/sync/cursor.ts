import type { Checkpoint } from '@parley/domain';
import { isCheckpoint } from '../store/checkpoint';

/**
 * A sync cursor is `<epoch>.<checkpoint>`: the store's gap-safe checkpoint (`<txid>:<position>`,
 * docs/decisions/0003) prefixed with the epoch of the database that issued it, so a cursor from
 * another database is recognised instead of being compared with transaction ids it never saw.
 * Clients treat it as opaque.
 */
export function encodeCursor(epoch: string, checkpoint: Checkpoint): string {
  return `${epoch}.${checkpoint}`;
}

/** The parts of a cursor, or undefined when it is not one. */
export function decodeCursor(cursor: string): { epoch: string; checkpoint: Checkpoint } | undefined {
  const at = cursor.indexOf('.');
  if (at < 1) return undefined;
  const epoch = cursor.slice(0, at);
  const checkpoint = cursor.slice(at + 1);
  return /^[0-9a-f]{1,32}$/.test(epoch) && isCheckpoint(checkpoint) ? { epoch, checkpoint } : undefined;
}
