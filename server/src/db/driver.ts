import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

/** Runs one SQL statement with positional parameters ($1, $2, ...) and returns its rows. */
export interface SqlQueryable {
  query<Row extends object = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
  /** Runs a script of several statements without parameters. */
  exec(script: string): Promise<void>;
}

/**
 * The raw connection underneath Prisma, for what Prisma cannot say: multi-statement migration
 * scripts, advisory locks, LISTEN, partition DDL, COPY-like bulk reads.
 */
export interface SqlDriver extends SqlQueryable {
  readonly kind: 'pglite' | 'postgres';
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function pgliteDriver(db: PGlite): SqlDriver {
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): SqlQueryable => ({
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(text, params as unknown[]);
      return result.rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
  });
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}

export function pgDriver(pool: pg.Pool): SqlDriver {
  const wrap = (client: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      const result = await client.query<Row>(text, params as unknown[]);
      return result.rows;
    },
    async exec(script: string) {
      await client.query(script);
    },
  });
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      // SA: a checked-out client has no listener of the pool's; without ours, a connection lost
      // mid-transaction is an unhandled 'error' event that ends the process. It fails this
      // transaction instead (its query rejects too), and the client is destroyed, not pooled.
      let lost: Error | undefined;
      const onError = (error: Error) => {
        lost ??= error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!lost && !isConnectionLost(error)) await client.query('ROLLBACK').catch(() => undefined);
        else lost ??= error as Error;
        throw error;
      } finally {
        if (lost) {
          client.release(lost); // keeps our listener: the dead client may still report errors
        } else {
          client.off('error', onError);
          client.release();
        }
      }
    },
    close: () => pool.end(),
  };
}

const CONNECTION_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/**
 * Is this the error of a connection that died (terminated backend, reset socket, server restart)?
 * The statement it interrupted may or may not have committed: see `SqlEventStore`'s retries.
 */
export function isConnectionLost(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (CONNECTION_CODES.has(code) || /^E(CONNRESET|PIPE|CONNREFUSED)$/.test(code))
  )
    return true;
  return /Connection terminated|connection error and is not queryable|terminating connection|ECONNRESET|EPIPE|Client was closed/i.test(
    error.message,
  );
}
