import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';

/** How much one `/trpc` request may carry. */
export interface ApiLimits {
  /** Largest request body in bytes. */
  readonly maxBytes: number;
  /** Most calls in one batched request (`?batch=1`, paths joined by commas). */
  readonly maxBatch: number;
}

/**
 * 2 MB: the PWA's largest reply batch (256,000 characters of content plus one reply of 40,000,
 * apps/web/src/lib/outbox/flusher.ts) is under 1.8 MB of JSON even if every character were escaped,
 * so a queued reply never meets this limit. Nothing is uploaded through tRPC.
 */
export const DEFAULT_API_MAX_BYTES = 2_000_000;
/** The PWA's batch link sends at most this many calls per request (`maxItems`). */
export const DEFAULT_API_MAX_BATCH = 50;

export const DEFAULT_API_LIMITS: ApiLimits = {
  maxBytes: DEFAULT_API_MAX_BYTES,
  maxBatch: DEFAULT_API_MAX_BATCH,
};

/**
 * Answers 413 before reading anything when a request declares a body over the limit or batches too
 * many calls; true when it answered. A body without a Content-Length is counted by tRPC's adapter as
 * it streams (its `maxBodySize`), and `cutOffRefusedBody` stops reading it after the 413.
 */
export function refuseOversized(req: IncomingMessage, res: ServerResponse, limits: ApiLimits): boolean {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    tooLarge(req, res, limits, `the request body is over ${limits.maxBytes} bytes`);
    return true;
  }
  const url = new URL(req.url ?? '/', 'http://parley');
  if (url.searchParams.get('batch') === '1') {
    const calls = url.pathname.replace(/^\/trpc\/?/, '').split(',').length;
    if (calls > limits.maxBatch) {
      tooLarge(req, res, limits, `a batch carries at most ${limits.maxBatch} calls`);
      return true;
    }
  }
  return false;
}

/** Once a 413 is out, the rest of a body still arriving is discarded, and cut off past the limit. */
export function cutOffRefusedBody(req: IncomingMessage, res: ServerResponse, limits: ApiLimits): void {
  res.once('finish', () => {
    if (res.statusCode === 413 && !req.complete) discardRest(req, limits.maxBytes);
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse, limits: ApiLimits, message: string): void {
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(
    JSON.stringify({
      error: {
        message,
        code: TRPC_ERROR_CODES_BY_KEY.PAYLOAD_TOO_LARGE,
        data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, limit: limits.maxBytes },
      },
    }),
  );
  discardRest(req, limits.maxBytes);
}

/**
 * Reads and drops what the client still sends, so it can read our answer, and cuts the connection
 * once `budget` more bytes have come: memory holds nothing of a refused body.
 */
function discardRest(req: IncomingMessage, budget: number): void {
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > budget) req.destroy();
  });
  req.on('error', () => undefined); // a client that gives up mid-body is no error of ours
  req.resume();
}
