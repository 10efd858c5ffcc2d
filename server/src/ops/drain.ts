import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How long a drain waits for in-flight requests before it cuts their connections. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** What a drain did, for the log. */
export interface DrainReport {
  /** Requests still open after the wait, whose connections were cut. */
  readonly cutRequests: number;
  /** Live streams (SSE) ended for their clients to reconnect elsewhere. */
  readonly endedStreams: number;
}

/** Is this request a live stream (tRPC's `httpSubscriptionLink` asks for server-sent events)? */
export function isEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

/**
 * The HTTP requests one server is answering, and whether it is draining. Live streams (SSE) are
 * counted apart: they never finish by themselves, so a drain ends them instead of waiting.
 */
export class RequestTracker {
  private readonly open = new Map<ServerResponse, { readonly stream: boolean }>();
  private readonly waiters = new Set<() => void>();
  private drainingSince: number | undefined;

  /** Call first for every request; answers (and returns true for) a live stream asked for mid-drain. */
  track(req: IncomingMessage, res: ServerResponse): boolean {
    const stream = isEventStream(req);
    if (this.draining) {
      // The connection closes after this answer: the client's next request finds another node.
      res.setHeader('connection', 'close');
      if (stream) {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(
          JSON.stringify({ error: { message: 'the server is restarting; reconnect', code: 'DRAINING' } }),
        );
        return true;
      }
    }
    this.open.set(res, { stream });
    res.once('close', () => {
      this.open.delete(res);
      for (const wake of this.waiters) wake();
    });
    return false;
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Marks the server as draining: `/readyz` answers 503 from now on. */
  startDraining(now = Date.now()): void {
    this.drainingSince ??= now;
    // Requests already in flight close their connection once answered, too.
    for (const res of this.open.keys()) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /** Open requests other than live streams. */
  inFlight(): number {
    let n = 0;
    for (const { stream } of this.open.values()) if (!stream) n++;
    return n;
  }

  /** Open live streams. */
  streams(): number {
    return this.open.size - this.inFlight();
  }

  /**
   * Ends every live stream by closing its connection: `EventSource` (and tRPC's subscription link
   * on it) treats that as a dropped connection and reconnects with its last event id, resuming
   * exactly after it, where a clean end of the stream would tell the client it is over.
   */
  endStreams(): number {
    let ended = 0;
    for (const [res, { stream }] of this.open) {
      if (!stream) continue;
      res.socket?.destroy();
      ended++;
    }
    return ended;
  }

  /** Resolves once no request other than a live stream is open, or after `timeoutMs`: true if settled. */
  settled(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.inFlight() > 0) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (settled: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(settled);
      };
      this.waiters.add(check);
      check();
    });
  }
}

/**
 * Drains one HTTP server: stop accepting connections, end live streams (clients reconnect), close
 * `closeSockets` (the board sockets, with their own reconnect code), let in-flight requests finish
 * within `timeoutMs`, then cut what is left. Resolves when the server has closed.
 */
export async function drainHttpServer(
  server: Server,
  tracker: RequestTracker,
  closeSockets: () => Promise<void>,
  timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS,
): Promise<DrainReport> {
  tracker.startDraining();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const endedStreams = tracker.endStreams();
  await closeSockets();
  const settled = await tracker.settled(timeoutMs);
  const cutRequests = settled ? 0 : tracker.inFlight();
  server.closeAllConnections();
  await closed;
  return { cutRequests, endedStreams };
}
