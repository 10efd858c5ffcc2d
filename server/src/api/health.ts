import { listPartitions, utcDay } from '../db/partitions';
import { migrationState } from '../db/migrator';
import { publicProcedure } from './trpc';
import { VERSION } from '../version';

/** Is the server up, on which database, and is its schema current? */
export const healthProcedure = publicProcedure.query(async ({ ctx }) => {
  const { db, store } = ctx.services;
  const migrations = await migrationState(db.sql);
  const partitions = await listPartitions(db.sql);
  const today = utcDay(Date.now());
  const ahead = partitions.filter((day) => day > today).length;
  const listen = db.listenState();
  return {
    status:
      migrations.pending.length === 0 && listen.state !== 'reconnecting'
        ? ('ok' as const)
        : ('degraded' as const),
    version: VERSION,
    // Whether other processes' commits wake this one (SB); the error text stays in the log.
    database: { kind: db.kind, listen: { state: listen.state, reconnects: listen.reconnects } },
    migrations: {
      applied: migrations.applied.length,
      pending: migrations.pending.length,
      latest: migrations.applied.at(-1) ?? null,
    },
    partitions: { oldest: partitions[0] ?? null, newest: partitions.at(-1) ?? null, daysAhead: ahead },
    hotTier: store.hot.size,
  };
});
