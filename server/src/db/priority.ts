import { AsyncLocalStorage } from 'node:async_hooks';
import type { PGlite } from '@electric-sql/pglite';

/*
 * PGlite has one connection: every query and transaction waits for the one before it, first come
 * first served. Background work (projections, the workflow engine, the dispatcher, search) keeps
 * several statements queued at any time, so a request an agent waits for (a batch of commands)
 * queued behind all of them at each of its steps. The gate below lets work marked foreground that
 * is waiting go first; nothing running is interrupted, a transaction keeps the connection to its
 * end, and work of one kind keeps its order. Background work still gets every `fairness`-th turn
 * while foreground work waits, so a stream of requests cannot starve it.
 */

const lane = new AsyncLocalStorage<'foreground'>();

/** Runs `work` with its database steps ahead of background work waiting for PGlite's connection. */
export function inForeground<T>(work: () => Promise<T>): Promise<T> {
  return lane.run('foreground', work);
}

/** One holder at a time; waiting foreground work goes before waiting background work. */
export class PriorityGate {
  private busy = false;
  private readonly foreground: (() => void)[] = [];
  private readonly background: (() => void)[] = [];
  /** Foreground turns given in a row while background work waited. */
  private streak = 0;

  constructor(private readonly fairness = 4) {}

  /** How many wait, for tests and the curious. */
  get waiting(): { readonly foreground: number; readonly background: number } {
    return { foreground: this.foreground.length, background: this.background.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter(lane.getStore() === 'foreground');
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(foreground: boolean): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => (foreground ? this.foreground : this.background).push(resolve));
  }

  private leave(): void {
    const backgroundWaits = this.background.length > 0;
    if (this.foreground.length > 0 && (!backgroundWaits || this.streak < this.fairness)) {
      this.streak = backgroundWaits ? this.streak + 1 : 0;
      this.foreground.shift()!();
    } else if (backgroundWaits) {
      this.streak = 0;
      this.background.shift()!();
    } else {
      this.busy = false;
    }
  }
}

/**
 * Puts PGlite's `query`, `exec` and `transaction` behind a `PriorityGate` (on the instance, so
 * Prisma's adapter and the raw driver share it). Statements inside a transaction use its own
 * handle and pass straight through, as they do in PGlite.
 */
export function withPriorities(db: PGlite, gate = new PriorityGate()): PGlite {
  const query = db.query.bind(db);
  const exec = db.exec.bind(db);
  const transaction = db.transaction.bind(db);
  Object.assign(db, {
    query: (...args: Parameters<PGlite['query']>) => gate.run(() => query(...args)),
    exec: (...args: Parameters<PGlite['exec']>) => gate.run(() => exec(...args)),
    transaction: (...args: Parameters<PGlite['transaction']>) => gate.run(() => transaction(...args)),
  });
  return db;
}
