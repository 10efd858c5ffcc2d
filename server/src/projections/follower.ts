import type { Checkpoint, RecordedEvent } from '@parley/domain';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import { compareCheckpoints, START } from '../store/checkpoint';
import type { EventStore } from '../store/types';

export interface FollowerOptions {
  readonly store: EventStore;
  readonly db: Database;
  readonly logger?: Logger;
  /** The checkpoint's name in `subscription_checkpoints`. */
  readonly name: string;
  /** What the logs call it when a step fails ("search index", "analytics projection"). */
  readonly label: string;
  /** Events per `apply` at most. */
  readonly batchSize: number;
  /**
   * Applies a batch and stores `checkpoint` under `name` in the same transaction, so a restart
   * resumes after the last batch applied and never applies one twice. A throw retries the batch
   * from the stored checkpoint after a pause (100 ms doubling, at most 30 s).
   */
  readonly apply: (events: readonly RecordedEvent[], checkpoint: Checkpoint) => Promise<void>;
}

/** A follower of the global log, running until `stop`. */
export interface Follower {
  /** Every event at or before this checkpoint has been applied. */
  readonly checkpoint: Checkpoint;
  /** Resolves once every event committed before the call has been applied. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows the global log from a stored checkpoint and hands batches to `apply` (the search index,
 * the analytics projection). A reader fills a buffer from the store's subscription while the
 * writer applies what is in it, so reading the next page overlaps writing this one; the buffer
 * holds at most four batches before the reader waits.
 */
export async function startFollower(options: FollowerOptions): Promise<Follower> {
  const { store, db, logger, name, label, batchSize, apply } = options;
  const controller = new AbortController();
  let position = await loadCheckpoint(db, name);
  const waiters: { target: Checkpoint; resolve: () => void }[] = [];

  function release(): void {
    for (const waiter of [...waiters]) {
      if (compareCheckpoints(position, waiter.target) >= 0 || controller.signal.aborted) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** One subscription from `position`, until it ends or fails. */
  async function follow(): Promise<void> {
    const feed = new AbortController();
    const stop = () => feed.abort();
    controller.signal.addEventListener('abort', stop, { once: true });
    const buffer: RecordedEvent[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let failure: unknown;
    const reader = (async () => {
      try {
        for await (const event of store.subscribe({ after: position, signal: feed.signal, batchSize })) {
          buffer.push(event);
          wake?.();
          while (buffer.length >= batchSize * 4 && !feed.signal.aborted)
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } catch (error) {
        failure = error;
      } finally {
        ended = true;
        wake?.();
      }
    })();
    try {
      for (;;) {
        if (buffer.length === 0) {
          if (ended) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const events = buffer.splice(0, batchSize);
        const last = events.at(-1)!.checkpoint;
        await apply(events, last);
        position = last;
        release();
      }
      if (failure !== undefined && !controller.signal.aborted) {
        throw failure instanceof Error
          ? failure
          : new Error(`store subscription failed: ${JSON.stringify(failure)}`);
      }
    } finally {
      feed.abort();
      controller.signal.removeEventListener('abort', stop);
      await reader;
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        await follow();
        failures = 0;
      } catch (error) {
        failures++;
        logger?.error({ err: error, checkpoint: position }, `${label} step failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 100 * 2 ** failures)));
      }
    }
  }

  const running = run();
  return {
    get checkpoint() {
      return position;
    },
    async settled() {
      for (;;) {
        const { next } = await store.readAllTenants(position, 10_000);
        if (compareCheckpoints(position, next) >= 0 || controller.signal.aborted) return;
        await new Promise<void>((resolve) => waiters.push({ target: next, resolve }));
      }
    },
    async stop() {
      controller.abort();
      await running;
      release();
    },
  };
}

/** A follower's stored checkpoint, or the start of the log. */
export async function loadCheckpoint(db: Database, name: string): Promise<Checkpoint> {
  const rows = await db.sql.query<{ checkpoint: string }>(
    'SELECT checkpoint FROM subscription_checkpoints WHERE name = $1',
    [name],
  );
  return (rows[0]?.checkpoint as Checkpoint | undefined) ?? START;
}
