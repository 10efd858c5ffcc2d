import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { createApi, type Api } from '../api/context';
import { attachmentRoutes } from '../attachments';
import { appRouter } from '../api/router';
import type { BoardServerHandle, BoardServerOptions } from '../boards';
import type { Services } from '../services';
import { mountBoards } from './boards';
import { contactExportRoute } from './contact-export';
import { cutOffRefusedBody, DEFAULT_API_LIMITS, refuseOversized, type ApiLimits } from './limits';
import { drainHttpServer, type DrainReport } from '../ops/drain';
import { traceRequest } from '../ops/tracing';
import { createOperations, type Operations } from './operations';
import { createSecurityHeaders, originAllowed } from './security-headers';
import { staticHandler, WEB_DIST } from './static';

/** The HTTP server and the board sockets on it: close `boards` first, it holds upgraded sockets. */
export type ParleyHttpServer = Server & {
  readonly boards: BoardServerHandle;
  /** `/healthz`, `/readyz`, `/metrics` and the request tracker (server/src/http/operations.ts). */
  readonly operations: Operations;
  /** SIGTERM's first half (decision 0021): `/readyz` fails, streams and sockets close, requests finish. */
  drain(timeoutMs?: number): Promise<DrainReport>;
};

/** One HTTP server: the tRPC API under /trpc, board sockets on /boards/<id>, the PWA everywhere else. */
export function createHttpServer(
  services: Services,
  options: {
    webDir?: string;
    api?: Api;
    boards?: Partial<BoardServerOptions>;
    limits?: Partial<ApiLimits>;
  } = {},
): ParleyHttpServer {
  const api = options.api ?? createApi(services);
  // S6: bodies and batches are bounded before tRPC reads them (server/src/http/limits.ts).
  const limits: ApiLimits = {
    ...DEFAULT_API_LIMITS,
    ...(services.config.apiMaxBytes === undefined ? {} : { maxBytes: services.config.apiMaxBytes }),
    ...options.limits,
  };
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: api.createHttpContext,
    maxBodySize: limits.maxBytes,
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        services.logger.error({ err: error, path }, 'procedure failed');
    },
  });
  const web = staticHandler(options.webDir);
  const publicUrl = () => services.channels.publicUrl();
  const security = createSecurityHeaders({ webDir: options.webDir ?? WEB_DIST, publicUrl });
  const mounted: { boards?: BoardServerHandle } = {}; // set below, once the server exists
  const operations = createOperations(services, () => mounted.boards);
  const attachments = attachmentRoutes({
    attachments: services.attachments,
    auth: api.auth,
    publicUrl,
    logger: services.logger,
  });
  const contactExport = contactExportRoute({
    services,
    auth: api.auth,
    publicUrl,
    logger: services.logger,
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (operations.tracker.track(req, res)) return; // a live stream asked for while draining
    security.apply(req, res);
    if (operations.handle(req, res)) return;
    // Webhooks and web chat: server/src/channels.
    if (services.channels.handle(req, res)) return;
    // Uploads and downloads of files: server/src/attachments.
    if (attachments(req, res)) return;
    // A contact's data as a ZIP, for admins: server/src/contacts/export.ts.
    if (contactExport(req, res)) return;
    if (url === '/trpc' || url.startsWith('/trpc/')) {
      if (!originAllowed(req, publicUrl())) {
        // 0018: a mutation posted by another site's page (SameSite alone misses multipart forms).
        req.resume();
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'cross-origin request refused', code: 'FORBIDDEN' } }));
        return;
      }
      if (refuseOversized(req, res, limits)) return;
      cutOffRefusedBody(req, res, limits);
      trpc(req, res);
      return;
    }
    web(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  };
  // Every request in a span of its own when tracing is on (decision 0039).
  const server = createServer((req, res) => traceRequest(req, res, () => handle(req, res)));
  server.on('listening', () => services.channels.listeningOn(server.address()));
  const boards = mountBoards(server, services, api.auth, options.boards);
  mounted.boards = boards;
  return Object.assign(server, {
    boards,
    operations,
    drain: (timeoutMs?: number) =>
      drainHttpServer(
        server,
        operations.tracker,
        () =>
          boards
            .close()
            .catch((error: unknown) => services.logger.error({ err: error }, 'closing the boards failed')),
        timeoutMs,
      ),
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
