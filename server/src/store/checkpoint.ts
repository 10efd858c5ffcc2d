import type { Checkpoint } from '@parley/domain';

/**
 * A checkpoint is `<txid>:<position>`: the id of the transaction that wrote the event (xid8) and
 * the event's sequence number. The log is ordered by (txid, position); see
 * docs/decisions/0003-gap-safe-global-order.md for why the transaction id comes first.
 */
export interface CheckpointParts {
  readonly tx: bigint;
  readonly position: bigint;
}

/** Before the first event. */
export const START = '0:0' as Checkpoint;

const FORMAT = /^(\d{1,20}):(\d{1,20})$/;

export function isCheckpoint(value: unknown): value is Checkpoint {
  return typeof value === 'string' && FORMAT.test(value);
}

export function parseCheckpoint(value: string): CheckpointParts {
  const match = FORMAT.exec(value);
  if (!match)
    throw new TypeError(`checkpoint ${JSON.stringify(value)} is malformed: expected <txid>:<position>`);
  return { tx: BigInt(match[1]!), position: BigInt(match[2]!) };
}

export function formatCheckpoint(tx: bigint | string, position: bigint | string): Checkpoint {
  return `${tx}:${position}` as Checkpoint;
}

/** Negative when a comes first in the log, positive when b does, 0 when equal. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  const x = parseCheckpoint(a);
  const y = parseCheckpoint(b);
  if (x.tx !== y.tx) return x.tx < y.tx ? -1 : 1;
  if (x.position !== y.position) return x.position < y.position ? -1 : 1;
  return 0;
}
