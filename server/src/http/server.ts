import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { appRouter } from '../api/router';
import type { Services } from '../services';
import { staticHandler } from './static';

/** One HTTP server: the tRPC API under /trpc, the PWA everywhere else. */
export function createHttpServer(services: Services, options: { webDir?: string } = {}): Server {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: () => ({ services }),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        services.logger.error({ err: error, path }, 'procedure failed');
    },
  });
  const web = staticHandler(options.webDir);
  return createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/trpc' || url.startsWith('/trpc/')) {
      trpc(req, res);
      return;
    }
    web(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
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
