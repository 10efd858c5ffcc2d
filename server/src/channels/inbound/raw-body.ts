import type { IncomingMessage } from 'node:http';

/** A body read up to a limit: the bytes, or word that it was too large (with what was read). */
export type RawBody =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly size: number; readonly head: Buffer };

/**
 * Reads a request's raw bytes, stopping at `limit`: a declared Content-Length over the limit is
 * refused before reading, a chunked body as soon as it passes it. The rest is drained, up to a
 * bound, so the client still reads our answer.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<RawBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    drain(req, limit);
    return Promise.resolve({ ok: false, size: declared, head: Buffer.alloc(0) });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        drain(req, limit);
        resolve({ ok: false, size, head: Buffer.concat(chunks).subarray(0, 2048) });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve({ ok: true, body: Buffer.concat(chunks, size) });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** Discards the rest of a refused body; past ten times the limit the connection is cut. */
function drain(req: IncomingMessage, limit: number): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limit * 10) req.destroy();
  });
  req.resume();
}
