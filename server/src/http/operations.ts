import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { migrationState } from '../db/migrator';
import { createMetrics, withTimeout } from '../ops/metrics';
import { RequestTracker } from '../ops/drain';
import type { BoardServerHandle } from '../boards';
import type { Services } from '../services';

/** How long `/readyz` waits for the database to answer `SELECT 1`. */
export const READY_DB_TIMEOUT_MS = 1_000;

/** One readiness check: ok, or what is wrong. */
export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail?: string;
}

/** `/readyz`'s answer: ready only when every check is ok. */
export interface Readiness {
  readonly status: 'ready' | 'not ready';
  /** The names of the checks that failed. */
  readonly failed: readonly string[];
  readonly checks: {
    readonly draining: ReadinessCheck;
    readonly database: ReadinessCheck;
    readonly migrations: ReadinessCheck;
  };
  /** Whether other processes' commits wake this one (informational: polling covers a lost LISTEN). */
  readonly listen: string;
}

type ReadinessServices = Pick<Services, 'db'>;

/**
 * Is this process fit to take traffic? Not draining, the database answers within
 * `READY_DB_TIMEOUT_MS`, and every migration is applied (once they all are, that stays so).
 */
export function readinessProbe(
  services: ReadinessServices,
  draining: () => boolean,
  timeoutMs = READY_DB_TIMEOUT_MS,
): () => Promise<Readiness> {
  let migrated = false;
  return async () => {
    const { db } = services;
    const drainingCheck: ReadinessCheck = draining()
      ? { ok: false, detail: 'the process is shutting down' }
      : { ok: true };
    let database: ReadinessCheck;
    let migrations: ReadinessCheck = { ok: false, detail: 'not checked: the database did not answer' };
    try {
      await withTimeout(db.sql.query('SELECT 1'), timeoutMs);
      database = { ok: true };
      if (!migrated) {
        const state = await withTimeout(migrationState(db.sql), timeoutMs);
        migrated = state.pending.length === 0;
      }
      migrations = migrated ? { ok: true } : { ok: false, detail: 'migrations are pending' };
    } catch (error) {
      database = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    const checks = { draining: drainingCheck, database, migrations };
    const failed = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    return {
      status: failed.length === 0 ? 'ready' : 'not ready',
      failed,
      checks,
      listen: db.listenState().state,
    };
  };
}

/** Is this request's peer this machine (and not a proxy forwarding someone else)? */
function fromLoopback(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress ?? '';
  const loopback = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
  // A reverse proxy on this machine connects from loopback on behalf of anyone.
  const forwarded = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  return loopback && !forwarded;
}

/**
 * Who may read `/metrics`: with `PARLEY_METRICS_TOKEN` set, whoever sends it as a Bearer token (and
 * nobody else, loopback included); without it, only a client on this machine, not through a proxy.
 */
export function metricsAllowed(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined || token === '') return fromLoopback(req);
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `/healthz`, `/readyz` and `/metrics`, the request tracker that drains the server, and the probes. */
export interface Operations {
  readonly tracker: RequestTracker;
  readiness(): Promise<Readiness>;
  /** Answers the operations paths; false for every other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createOperations(
  services: Pick<Services, 'db' | 'store' | 'runtime' | 'channels' | 'config' | 'logger'>,
  boards: () => BoardServerHandle | undefined,
): Operations {
  const tracker = new RequestTracker();
  const readiness = readinessProbe(services, () => tracker.draining);
  const metrics = createMetrics({
    observeBatches: (observe) => {
      services.store.onBatch = observe;
    },
    sql: services.db.sql,
    grainStats: () => services.runtime.stats(),
    breakers: () => services.channels.dispatcher.breakers.snapshot(Date.now()),
    boards: () => boards()?.stats() ?? { connections: 0, loadedBoards: 0 },
    http: () => ({ inFlight: tracker.inFlight(), streams: tracker.streams(), draining: tracker.draining }),
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  return {
    tracker,
    readiness,
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
      req.resume();
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return true;
      }
      if (path === '/healthz') {
        // Alive: the event loop answered. Draining does not change it (the process is not stuck).
        json(res, 200, { status: 'alive' });
      } else if (path === '/readyz') {
        readiness().then(
          (answer) => json(res, answer.status === 'ready' ? 200 : 503, answer),
          (error: unknown) =>
            json(res, 503, { status: 'not ready', failed: ['probe'], error: String(error) }),
        );
      } else if (!metricsAllowed(req, services.config.metricsToken)) {
        json(res, 403, {
          error: {
            message: 'metrics are served to this machine, or with PARLEY_METRICS_TOKEN',
            code: 'FORBIDDEN',
          },
        });
      } else {
        metrics.scrape().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
            res.end(text);
          },
          (error: unknown) => {
            services.logger.error({ err: error }, 'metrics scrape failed');
            res.writeHead(500).end();
          },
        );
      }
      return true;
    },
  };
}
