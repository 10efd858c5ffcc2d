import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlQueryable } from '../db/driver';
import type { Logger } from '../logger';

/** How the lease owners watch each other. */
export interface LeaseOptions {
  /** The slot a restarted process takes over: PARLEY_NODE_ID, else host name and DATA_DIR. */
  readonly node: string;
  /** How often this process says it is alive. */
  readonly heartbeatMs: number;
  /** An owner silent this long is dead, on any node: its rows are freed. */
  readonly staleMs: number;
}

export const DEFAULT_LEASE_OPTIONS: LeaseOptions = {
  node: hostname(),
  heartbeatMs: 5_000,
  staleMs: 30_000,
};

/** The owners registered by this very process (tests run several stacks in one). */
const OWNERS_HERE = new Set<string>();

/** What freeing dead owners' rows did. */
export interface Reaped {
  readonly owners: readonly string[];
  readonly inbox: number;
  readonly outbox: number;
}

/**
 * The owner named by this process's leases on `webhook_inbox` and `channel_outbox` (SC, SD).
 * `register` frees at once the rows of a predecessor on the same node whose process is gone (a
 * crash, a kill), then a heartbeat keeps this owner alive and frees the rows of any owner whose
 * heartbeat went stale, so a crashed process's rows wait seconds at most, not their 60 s lease.
 */
export class LeaseOwner {
  readonly id = `w_${randomBytes(9).toString('base64url')}`;
  private readonly options: LeaseOptions;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: SqlQueryable,
    private readonly logger: Logger,
    options: Partial<LeaseOptions> = {},
    private readonly clock: () => number = Date.now,
    /** Whether a process of this host is running (tests replace it). */
    private readonly alive: (pid: number) => boolean = processAlive,
  ) {
    this.options = { ...DEFAULT_LEASE_OPTIONS, ...options };
  }

  /** Registers this owner, frees dead predecessors' rows, and starts the heartbeat. */
  async register(): Promise<Reaped> {
    const now = new Date(this.clock());
    await this.sql.query(
      `INSERT INTO channel_workers (id, node, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)`,
      [this.id, this.options.node, process.pid, now],
    );
    OWNERS_HERE.add(this.id);
    const reaped = await this.reap();
    this.timer = setInterval(() => {
      this.beating = this.beat().catch((error: unknown) => {
        this.logger.warn({ err: error, owner: this.id }, 'lease heartbeat failed');
      });
    }, this.options.heartbeatMs);
    this.timer.unref();
    return reaped;
  }

  /** Stops the heartbeat and removes this owner (its rows are settled or released by then). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    OWNERS_HERE.delete(this.id);
    await this.free([this.id]);
  }

  /** Says this owner is alive (registering again if a peer took it for dead) and reaps the dead. */
  async beat(): Promise<void> {
    const now = new Date(this.clock());
    const rows = await this.sql.query(
      `UPDATE channel_workers SET heartbeat_at = $2 WHERE id = $1 RETURNING id`,
      [this.id, now],
    );
    if (rows.length === 0) {
      this.logger.warn({ owner: this.id }, 'lease owner was taken for dead; registering again');
      await this.sql.query(
        `INSERT INTO channel_workers (id, node, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`,
        [this.id, this.options.node, process.pid, now],
      );
    }
    await this.reap();
  }

  /**
   * Frees the rows of dead owners: a predecessor on this node whose process is gone (its pid is
   * not running here, or is this very process's but not an owner it made, as after a container
   * restart), and any owner whose heartbeat is older than `staleMs`.
   */
  async reap(): Promise<Reaped> {
    const workers = await this.sql.query<{ id: string; node: string; pid: number; heartbeat_at: Date }>(
      `SELECT id, node, pid, heartbeat_at FROM channel_workers WHERE id <> $1`,
      [this.id],
    );
    const staleBefore = this.clock() - this.options.staleMs;
    const dead = workers
      .filter(
        (w) =>
          w.heartbeat_at.getTime() < staleBefore ||
          (w.node === this.options.node &&
            (w.pid === process.pid ? !OWNERS_HERE.has(w.id) : !this.alive(w.pid))),
      )
      .map((w) => w.id);
    if (dead.length === 0) return { owners: [], inbox: 0, outbox: 0 };
    const reaped = await this.free(dead);
    this.logger.warn(reaped, 'freed the leases of dead channel workers');
    return reaped;
  }

  private async free(owners: readonly string[]): Promise<Reaped> {
    const now = new Date(this.clock());
    const inbox = await this.sql.query(
      `UPDATE webhook_inbox SET status = 'pending', next_attempt_at = $2, locked_until = NULL, locked_by = NULL
        WHERE status = 'processing' AND locked_by = ANY($1::text[]) RETURNING id`,
      [owners, now],
    );
    // `send_started_at` stays: the next claimer sees the send may have reached the platform (SD).
    const outbox = await this.sql.query(
      `UPDATE channel_outbox SET status = 'pending', next_attempt_at = $2, locked_until = NULL, locked_by = NULL
        WHERE status = 'sending' AND locked_by = ANY($1::text[]) RETURNING id`,
      [owners, now],
    );
    await this.sql.query(`DELETE FROM channel_workers WHERE id = ANY($1::text[])`, [owners]);
    return { owners, inbox: inbox.length, outbox: outbox.length };
  }
}

/** True when a process with this id runs on this host (EPERM: it runs, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
