import { createHash, createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { BlobStore } from './blob-store';

/** An S3-compatible bucket, addressed path-style (`{endpoint}/{bucket}/{key}`), as MinIO and R2 accept. */
export interface S3Options {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly timeoutMs?: number;
  readonly clock?: () => number;
}

/** SHA-256 of nothing: the payload hash of a GET, HEAD or DELETE. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** RFC 3986 encoding of each path segment, as Signature Version 4 wants it. */
function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/**
 * Signs a request with AWS Signature Version 4 (service `s3`): returns the headers to send, the
 * given ones plus `x-amz-date`, `x-amz-content-sha256` and `authorization`. Every header given is
 * signed; `host` is taken from the URL.
 */
export function signS3(request: {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly payloadSha256: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly now: number;
}): Record<string, string> {
  const amzDate = new Date(request.now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    host: request.url.host,
    ...Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    'x-amz-content-sha256': request.payloadSha256,
    'x-amz-date': amzDate,
  };
  const names = Object.keys(headers).sort();
  const query = [...request.url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [
    request.method,
    encodePath(decodeURIComponent(request.url.pathname)),
    query,
    names.map((name) => `${name}:${headers[name]}\n`).join(''),
    names.join(';'),
    request.payloadSha256,
  ].join('\n');
  const scope = `${day}/${request.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${request.secretAccessKey}`, day), request.region), 's3'),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  const { host: _host, ...sent } = headers;
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${request.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** A minimal S3 client over fetch: signed PUT, GET, HEAD and DELETE of whole objects, nothing more. */
export function s3BlobStore(options: S3Options): BlobStore {
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const urlOf = (key: string) =>
    new URL(`${options.endpoint.replace(/\/$/, '')}/${encodeURIComponent(options.bucket)}/${key}`);
  const signed = (method: string, url: URL, payloadSha256: string, headers?: Record<string, string>) =>
    signS3({ method, url, headers, payloadSha256, now: clock(), ...options });
  const request = async (method: 'GET' | 'HEAD' | 'DELETE', key: string) => {
    const url = urlOf(key);
    const response = await fetch(url, {
      method,
      headers: signed(method, url, EMPTY_SHA256),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`S3 ${method} ${key} answered ${response.status}`);
    }
    return response;
  };
  return {
    kind: 's3',
    async has(key) {
      return (await request('HEAD', key)) !== null;
    },
    async put(key, path, size, sha256) {
      const url = urlOf(key);
      const headers = signed('PUT', url, sha256, { 'content-length': String(size) });
      // Node's fetch streams a body only with `duplex: 'half'`, which the DOM typings lack.
      const init: RequestInit & { duplex: 'half' } = {
        method: 'PUT',
        headers,
        body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
        duplex: 'half',
        signal: AbortSignal.timeout(timeoutMs),
      };
      const response = await fetch(url, init);
      await response.body?.cancel();
      if (!response.ok) throw new Error(`S3 PUT ${key} answered ${response.status}`);
    },
    async get(key) {
      const response = await request('GET', key);
      if (!response?.body) return null;
      return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    },
    async delete(key) {
      // DeleteObject answers 204 whether or not the key held an object; a 404 (some stores) is the same.
      const response = await request('DELETE', key);
      await response?.body?.cancel();
    },
  };
}
