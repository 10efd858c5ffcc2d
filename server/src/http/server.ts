import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { createApi, type Api } from '../api/context';
import { appRouter } from '../api/router';
import type { Services } from '../services';
import { staticHandler } from './static';

/** One HTTP server: the tRPC API under /trpc, the PWA everywhere else. */
export function createHttpServer(services: Services, options: { webDir?: string; api?: Api } = {}): Server {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: (options.api ?? createApi(services)).createHttpContext,
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        services.logger.error({ err: error, path }, 'procedure failed');
    },
  });
  const web = staticHandler(options.webDir);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    // Webhooks, web chat and (dev) the fault panel's endpoints: server/src/channels.
    if (services.channels.handle(req, res)) return;
    if (url === '/trpc' || url.startsWith('/trpc/')) {
      trpc(req, res);
      return;
    }
    web(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
  server.on('listening', () => services.channels.listeningOn(server.address()));
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
