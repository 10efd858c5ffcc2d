import { join } from 'node:path';
import type { Config } from './config';
import { openDatabase, type Database } from './db/database';
import { migrate } from './db/migrator';
import type { Logger } from './logger';
import { SqlEventStore } from './store/sql-store';

/** The long-lived parts of one Parley process, opened in order and closed in reverse. */
export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly store: SqlEventStore;
  close(): Promise<void>;
}

export async function openServices(config: Config, logger: Logger): Promise<Services> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(db.sql, undefined, (name) => logger.info({ migration: name }, 'applied migration'));
    const store = await SqlEventStore.open({ db, archiveDir: join(config.dataDir, 'archive') });
    return {
      config,
      logger,
      db,
      store,
      async close() {
        await store.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
