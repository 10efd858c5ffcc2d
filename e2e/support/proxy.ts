import {
  createServer,
  request as forward,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A reply request the proxy forwarded and answered by the server, whose answer it kept from the browser. */
export interface HeldAnswer {
  readonly status: number;
  readonly body: string;
  /** Drops the browser's connection without an answer. */
  drop(): void;
}

/**
 * A small HTTP proxy in front of a Parley server, for faults a browser cannot be asked to fake:
 * keeping an answer after the server committed, failing requests, and serving a changed `/sw.js`
 * (a new app version). The browser uses the proxy's own origin, so its storage is separate too.
 */
export class FaultProxy {
  private server: Server | undefined;
  /** When set, the `skip + 1`th request whose path starts with `prefix` is forwarded, and its answer held. */
  private holdNext: { prefix: string; skip: number; resolve: (held: HeldAnswer) => void } | null = null;
  /** Requests whose path starts with this answer 503 without reaching the server. */
  failPrefix: string | null = null;
  /** A marker appended to `/sw.js`: changing it makes the browser see a new version. */
  swVersion = '';
  /** Paths of the requests seen, in order. */
  readonly seen: string[] = [];
  target: string;

  constructor(target: string) {
    this.target = target;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /**
   * Resolves with the held answer of the `nth` request to `prefix` from now (1: the next one), once
   * the server has answered it. The requests before it pass untouched.
   */
  holdAnswer(prefix: string, nth = 1): Promise<HeldAnswer> {
    return new Promise((resolve) => (this.holdNext = { prefix, skip: nth - 1, resolve }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.seen.push(`${req.method} ${path}`);
    if (this.failPrefix !== null && path.startsWith(this.failPrefix)) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"injected by the e2e proxy"}');
      return;
    }
    let hold: { resolve: (held: HeldAnswer) => void } | null = null;
    if (this.holdNext && path.startsWith(this.holdNext.prefix)) {
      if (this.holdNext.skip === 0) {
        hold = this.holdNext;
        this.holdNext = null;
      } else {
        this.holdNext.skip -= 1;
      }
    }
    const rewriteSw = path === '/sw.js' && this.swVersion !== '';
    const headers = { ...req.headers, host: new URL(this.target).host };
    // As a reverse proxy configured for Parley does: the Origin check (0018) compares it with Host.
    if (headers.origin !== undefined) headers.origin = new URL(this.target).origin;
    if (rewriteSw) {
      // The changed worker is another file than the one the browser holds: never "not modified".
      delete headers['if-none-match'];
      delete headers['if-modified-since'];
    }
    const upstream = forward(`${this.target}${path}`, { method: req.method, headers }, (answer) => {
      if (!hold && !rewriteSw) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (hold) {
          hold.resolve({ status: answer.statusCode ?? 0, body, drop: () => res.destroy() });
          return;
        }
        const changed = `${body}\n// e2e version ${this.swVersion}\n`;
        const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(changed)) };
        delete headers.etag;
        res.writeHead(answer.statusCode ?? 200, headers).end(changed);
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
