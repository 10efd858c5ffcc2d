import { ConfigError, loadConfig } from './config';
import { createHttpServer, listen } from './http/server';
import { createLogger } from './logger';
import { serveCliCommands } from './ops/admin-commands';
import { startTracing, tracingRequested } from './ops/tracing';
import { openServices } from './services';

async function main(): Promise<void> {
  const config = loadConfig();
  // Before anything opens: spans need the provider from the first request on (decision 0039).
  const tracing = tracingRequested() ? startTracing() : undefined;
  const logger = createLogger(config.logLevel);
  const services = await openServices(config, logger);
  const server = createHttpServer(services);
  const address = await listen(server, config.port, config.host);
  const adminSocket = await serveCliCommands(services); // `npm run parley -- <command>` alongside us
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const where =
    services.db.kind === 'pglite'
      ? `embedded PGlite in ${services.db.location}`
      : `PostgreSQL at ${services.db.location}`;
  // Plain lines for the person who just typed `npm start`; the JSON log carries the same facts.
  console.log(`\nParley is running at http://${shownHost}:${address.port}`);
  console.log(`Data: ${where}\n`);
  logger.info(
    {
      port: address.port,
      database: services.db.kind,
      location: services.db.location,
      tracing: tracing ? 'otlp' : 'off',
    },
    'parley started',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while draining: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'draining');
    // Decision 0021: /readyz fails at once, no new connections, live streams end and board sockets
    // close for their clients to reconnect, in-flight requests get 10 s, then the services close
    // in reverse order (channel loops, workflow engine, projections, grains, store, database).
    setTimeout(() => {
      logger.error('shutdown took over 30 s: exiting');
      process.exit(1);
    }, 30_000).unref();
    // The admin socket goes with the HTTP server (its file removed; running CLI commands finish).
    Promise.all([server.drain(), adminSocket?.close()])
      .then(([report]) => {
        logger.info(report, 'drained');
        return services.close();
      })
      .then(() => tracing?.shutdown()) // the last spans leave before the process does
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  console.error(`Parley could not start: ${message}`);
  process.exit(1);
});
