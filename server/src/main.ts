import { ConfigError, loadConfig } from './config';
import { createHttpServer, listen } from './http/server';
import { createLogger } from './logger';
import { openServices } from './services';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const services = await openServices(config, logger);
  const server = createHttpServer(services);
  const address = await listen(server, config.port, config.host);
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const where =
    services.db.kind === 'pglite'
      ? `embedded PGlite in ${services.db.location}`
      : `PostgreSQL at ${services.db.location}`;
  // Plain lines for the person who just typed `npm start`; the JSON log carries the same facts.
  console.log(`\nParley is running at http://${shownHost}:${address.port}`);
  console.log(`Data: ${where}\n`);
  logger.info(
    { port: address.port, database: services.db.kind, location: services.db.location },
    'parley started',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // Boards first: their sockets would keep the HTTP server open, and they snapshot into the store.
    void server.boards
      .close()
      .catch((error: unknown) => logger.error({ err: error }, 'closing the boards failed'))
      .then(() => {
        server.closeAllConnections();
        server.close(() => {
          services.close().then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
        });
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  console.error(`Parley could not start: ${message}`);
  process.exit(1);
});
