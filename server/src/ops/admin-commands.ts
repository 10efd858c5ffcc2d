import { runCli, UsageError } from '../cli';
import type { Services } from '../services';
import { startAdminSocket, type AdminSocket } from './admin-socket';

/**
 * On the embedded database, serves the CLI's commands on DATA_DIR/parley.sock: the CLI cannot open
 * PGlite while this process holds it, so it sends its arguments here and `runCli` runs them with
 * this process's database. (On PostgreSQL the CLI connects itself; several processes may share
 * DATA_DIR there, so none claims the socket.)
 */
export async function serveCliCommands(services: Services): Promise<AdminSocket | undefined> {
  if (services.db.kind !== 'pglite') return undefined;
  const { dataDir } = services.config;
  return startAdminSocket(
    dataDir,
    (request, print) => {
      services.logger.info('running a CLI command from the admin socket'); // its arguments may hold a password
      return runCli(request.argv, print, {
        dataDir,
        env: request.env,
        withDb: (fn) => fn(services.db),
        // An archive or restore here changes which days the store reads from files: no stale list.
      }).finally(() => services.store.archive.refresh());
    },
    (error) => error instanceof UsageError,
  );
}
