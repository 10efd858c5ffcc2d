import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import { lockDirectory } from './dir-lock';
import { pgDriver, pgliteDriver, type SqlDriver } from './driver';
import { PriorityGate, withPriorities } from './priority';

/** An open database: Prisma Client for the models, the raw driver for what Prisma cannot say. */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly prisma: PrismaClient;
  readonly sql: SqlDriver;
  /** Where the data lives, for humans: a directory or a URL without its password. */
  readonly location: string;
  /**
   * PostgreSQL only: calls `onNotify` with its payload for each NOTIFY on `channel`, and once
   * without one after each reconnection (NOTIFYs sent while it was away are lost); resolves to a
   * stop function.
   */
  readonly listen?: (
    channel: string,
    onNotify: (payload: string | undefined) => void,
  ) => Promise<() => Promise<void>>;
  /** The LISTEN connection's state, for the health check. */
  listenState(): ListenState;
  /**
   * PGlite only: a copy of the database's files (its PGDATA as a tar), taken after a checkpoint
   * while no statement or transaction runs. `atSameInstant` runs at that instant too, so files it
   * copies match the database. The copy opens as the database would after a power cut then: every
   * committed transaction, none in flight (docs/decisions/0037). `heldMs`: how long writes waited.
   */
  readonly snapshot?: <T>(
    atSameInstant: () => T,
  ) => Promise<{ readonly pgdata: Blob; readonly also: T; readonly heldMs: number }>;
  close(): Promise<void>;
}

/** Is this process told of other processes' commits (NOTIFY), or only finding them by polling? */
export interface ListenState {
  /** `unused`: PGlite, or nothing listens yet; `reconnecting`: wake-ups fall back to polling. */
  readonly state: 'unused' | 'listening' | 'reconnecting' | 'stopped';
  /** How often the connection was re-established after it dropped. */
  readonly reconnects: number;
  readonly lastError: string | null;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent, PGlite under `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's directory parent; `memory://` keeps an embedded database in memory only. */
  readonly dataDir?: string;
  readonly poolSize?: number;
  /** Told when the LISTEN connection drops or comes back, for the log. */
  readonly onListenChange?: (state: ListenState, error?: unknown) => void;
  /** Told when a pooled connection dies (terminated backend, reset socket), for the log. */
  readonly onConnectionError?: (error: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10, options);
  return openPglite(options.dataDir ?? 'memory://');
}

async function openPostgres(
  url: string,
  poolSize: number,
  { onListenChange, onConnectionError }: OpenDatabaseOptions,
): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // SA: pg-pool watches a client only while it is idle; one handed to a promise's awaiter (our
  // transactions, Prisma's) has no listener until that awaiter resumes, and a backend terminated
  // in that gap emitted an unhandled 57P01. This listener lives as long as the client: the error is
  // logged here, the client is no longer queryable, and the pool discards it when it is idle or
  // released (whoever holds it sees the next query fail as a lost connection).
  pool.on('connect', (client) => {
    client.on('error', (error) => onConnectionError?.(error));
  });
  pool.on('error', () => undefined); // already told above; the pool removes the idle client
  const sql = pgDriver(pool);
  await sql.query('SELECT 1'); // fail fast, with the driver's own message, if the server is unreachable
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let listener: Listener | undefined;
  return {
    kind: 'postgres',
    prisma,
    sql,
    location: redactUrl(url),
    async listen(channel, onNotify) {
      listener = new Listener(url, channel, onNotify, onListenChange);
      await listener.start();
      const stopping = listener;
      return () => stopping.stop();
    },
    listenState: () => listener?.snapshot() ?? UNUSED,
    async close() {
      await listener?.stop();
      await prisma.$disconnect();
      await sql.close();
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const dir = inMemory ? dataDir : join(dataDir, 'pglite');
  const releaseLock = inMemory ? () => undefined : lockDirectory(dataDir);
  try {
    if (!inMemory) mkdirSync(dir, { recursive: true });
    // A request an agent waits for goes before background work waiting for the one connection.
    const gate = new PriorityGate();
    const db = withPriorities(await PGlite.create(dir), gate);
    const sql = pgliteDriver(db);
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
    return {
      kind: 'pglite',
      prisma,
      sql,
      location: dir,
      listenState: () => UNUSED,
      async snapshot(atSameInstant) {
        await db.exec('CHECKPOINT'); // less to replay when the copy opens
        // Holding the gate, nothing runs: dumpDataDir reads every file in one synchronous walk.
        return gate.run(async () => {
          const started = performance.now();
          const also = atSameInstant();
          const pgdata = await db.dumpDataDir('none');
          return { pgdata, also, heldMs: Math.round(performance.now() - started) };
        });
      },
      async close() {
        await prisma.$disconnect();
        await sql.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

const UNUSED: ListenState = { state: 'unused', reconnects: 0, lastError: null };

/**
 * SB: the LISTEN connection, kept up. When it drops (server restart, terminated backend, network)
 * it reconnects with backoff (0.1 s doubling to 30 s) and wakes its listener once on return; until
 * then subscribers find other processes' commits by polling.
 */
class Listener {
  private state: ListenState['state'] = 'unused';
  private reconnects = 0;
  private lastError: string | null = null;
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 100;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onNotify: (payload: string | undefined) => void,
    private readonly onChange: OpenDatabaseOptions['onListenChange'],
  ) {}

  snapshot(): ListenState {
    return { state: this.state, reconnects: this.reconnects, lastError: this.lastError };
  }

  /** The first connection: its failure is the caller's, as before. */
  async start(): Promise<void> {
    await this.connect();
    this.set('listening');
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    let dropped = false;
    const drop = (error: unknown) => {
      if (dropped) return;
      dropped = true;
      client.end().catch(() => undefined);
      if (this.client === client) this.lost(error);
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('the LISTEN connection ended')));
    try {
      await client.connect();
      client.on('notification', (message) => this.onNotify(message.payload));
      await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
    } catch (error) {
      dropped = true;
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.state === 'stopped') {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private lost(error: unknown): void {
    if (this.state === 'stopped') return;
    this.client = undefined;
    this.lastError = error instanceof Error ? error.message : String(error);
    this.set('reconnecting', error);
    this.schedule();
  }

  private schedule(): void {
    this.retry = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.state === 'stopped') return;
          this.reconnects++;
          this.backoffMs = 100;
          this.set('listening');
          this.onNotify(undefined); // commits made while we were away: look for them now
        },
        (error: unknown) => {
          if (this.state === 'stopped') return;
          this.lastError = error instanceof Error ? error.message : String(error);
          this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
          this.schedule();
        },
      );
    }, this.backoffMs);
    this.retry.unref();
  }

  private set(state: ListenState['state'], error?: unknown): void {
    this.state = state;
    this.onChange?.(this.snapshot(), error);
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgresql://(unparseable url)';
  }
}
