import type { SqlQueryable } from '../db/driver';
import type { Logger } from '../logger';

/** How long channel records nobody needs any more are kept: 30 days (`PARLEY_CHANNEL_RETENTION_DAYS`). */
export const DEFAULT_CHANNEL_RETENTION_MS = 30 * 86_400_000;
const HOUR = 3_600_000;
/** Rows deleted per statement, so one pass never holds a long lock on a big table. */
const PRUNE_BATCH = 5_000;

/** Rows deleted by one pass, per table. */
export interface PruneResult {
  readonly webhookInbox: number;
  readonly webhookRejections: number;
  readonly webchatMessages: number;
}

/**
 * Deletes, older than `cutoff`: processed webhook deliveries (every platform message has long been
 * an event by then; dead letters and pending rows stay), refused deliveries kept for inspection,
 * and the copies of replies kept for web chat widgets to fetch (the conversation keeps them as events).
 */
export async function pruneChannelTables(sql: SqlQueryable, cutoff: Date): Promise<PruneResult> {
  const drain = async (table: string, where: string): Promise<number> => {
    let total = 0;
    for (;;) {
      const rows = await sql.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${where} LIMIT ${PRUNE_BATCH}) RETURNING id`,
        [cutoff],
      );
      total += rows.length;
      if (rows.length < PRUNE_BATCH) return total;
    }
  };
  return {
    webhookInbox: await drain('webhook_inbox', `status = 'processed' AND processed_at < $1`),
    webhookRejections: await drain('webhook_rejections', 'received_at < $1'),
    webchatMessages: await drain('webchat_messages', 'created_at < $1'),
  };
}

/** Prunes the channel tables at start and hourly after (like the store's hourly partition job). */
export function startChannelPruning(options: {
  readonly sql: SqlQueryable;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly retentionMs: number;
  readonly everyMs?: number;
}): { runOnce(): Promise<PruneResult>; stop(): Promise<void> } {
  let running: Promise<PruneResult> | undefined;
  const runOnce = () =>
    (running ??= pruneChannelTables(options.sql, new Date(options.clock() - options.retentionMs)).finally(
      () => {
        running = undefined;
      },
    ));
  const pass = () => {
    runOnce().then(
      (pruned) => options.logger.debug({ pruned }, 'channel tables pruned'),
      (error: unknown) =>
        options.logger.warn({ err: error }, 'pruning channel tables failed; retried next hour'),
    );
  };
  const timer = setInterval(pass, options.everyMs ?? HOUR);
  timer.unref();
  pass();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
