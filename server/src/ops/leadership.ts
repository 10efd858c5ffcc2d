import pg from 'pg';
import type { Logger } from '../logger';
import { withTimeout } from './metrics';

/**
 * Leadership for the process's singletons (decision 0040): work that must run in one process of a
 * cluster at a time (the workflow engine, the analytics projection) runs while this process holds
 * a PostgreSQL session-level advisory lock on a connection of its own. PostgreSQL releases the lock
 * the moment that connection ends (a `kill -9`, a lost network, a terminated backend), and the other
 * processes, trying every `retryMs`, take it over. No home-made consensus: the database is the
 * arbiter. The embedded database is one process by construction (its directory lock), so there
 * the work starts at once.
 */

/** The work run while leading: started on election, stopped when leadership ends or on close. */
export interface LedWork {
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** What is led, e.g. `workflow-engine`: one lock per name. */
  readonly name: string;
  /** PostgreSQL's URL; undefined on the embedded database (always the leader). */
  readonly databaseUrl: string | undefined;
  readonly start: () => Promise<LedWork>;
  readonly logger: Logger;
  /** How often a follower tries for the lock and a leader checks its connection. Default 2 s. */
  readonly retryMs?: number;
}

export interface Leadership {
  /** Whether this process runs the work now. */
  readonly leading: boolean;
  /** Resolves once this process leads (tests). */
  elected(): Promise<void>;
  /** Stops the work if running and gives the lock up. */
  close(): Promise<void>;
}

/** The advisory lock's first key: "PARL", so Parley's locks do not meet another application's. */
const LOCK_SPACE = 0x5041524c;

/** Runs `start`'s work while this process holds the named lock; see the module comment. */
export async function lead(options: LeadershipOptions): Promise<Leadership> {
  const retryMs = options.retryMs ?? 2_000;
  const log = options.logger.child({ leadership: options.name });
  let work: LedWork | undefined;
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let electedWaiters: (() => void)[] = [];
  /** A deposed leader stands back for two rounds, so a healthy follower takes over, not it again. */
  let standBackUntil = 0;
  /** Serialises elections, depositions and close: one transition at a time. */
  let transition: Promise<void> = Promise.resolve();
  const serially = (step: () => Promise<void>) => {
    transition = transition
      .then(step)
      .catch((error: unknown) => log.error({ err: error }, 'leadership step failed'));
    return transition;
  };

  const begin = async () => {
    work = await options.start();
    for (const resolve of electedWaiters) resolve();
    electedWaiters = [];
  };

  const depose = async (why: string) => {
    const running = work;
    work = undefined;
    if (!running) return;
    log.warn({ why }, 'leadership lost: stopping the work; another process takes it over');
    standBackUntil = Date.now() + 2 * retryMs;
    await running.stop();
  };

  const dropClient = (target: pg.Client) => {
    if (client === target) client = undefined;
    target.end().catch(() => undefined);
  };

  const attempt = async () => {
    if (closed || (!work && Date.now() < standBackUntil)) return;
    try {
      if (!client) {
        const fresh = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true });
        fresh.on('error', () => undefined); // 'end' follows; handled there
        fresh.on('end', () => {
          if (client === fresh) client = undefined;
          // The lock went with the connection: the work must stop before someone else starts it.
          void serially(() => depose('the lock connection ended'));
        });
        await fresh.connect();
        client = fresh;
      }
      const current = client;
      if (work) {
        // Still ours? A connection that no longer answers may have lost the lock already.
        await withTimeout(current.query('SELECT 1'), retryMs); // a hung one is dropped below
        return;
      }
      const { rows } = await withTimeout(
        current.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [
          LOCK_SPACE,
          options.name,
        ]),
        retryMs,
      );
      if (rows[0]?.locked && !closed) {
        log.info('leading');
        await begin();
      }
    } catch (error) {
      log.debug({ err: error }, 'leadership attempt failed; trying again');
      if (client) dropClient(client);
      await depose('the lock connection failed');
    }
  };

  const tick = () => {
    void serially(attempt).then(() => {
      if (!closed) timer = setTimeout(tick, retryMs);
    });
  };

  if (options.databaseUrl === undefined) {
    await begin(); // the embedded database: this process is the only one
  } else {
    await serially(attempt);
    timer = setTimeout(tick, retryMs);
  }

  return {
    get leading() {
      return work !== undefined;
    },
    elected() {
      if (work) return Promise.resolve();
      return new Promise((resolve) => electedWaiters.push(resolve));
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await serially(async () => {
        const running = work;
        work = undefined;
        await running?.stop();
        const held = client;
        client = undefined;
        // Ending the session releases the lock (and any other it held).
        await held?.end().catch(() => undefined);
      });
    },
  };
}
