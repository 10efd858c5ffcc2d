import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SESSION_COOKIE } from '../src/auth/cookies';
import { metricsAllowed, type Readiness } from '../src/http/operations';
import { openApiHarness, serveHttp, type ApiHarness } from './api.support';
import { startServer } from './support/cli';

type Served = Awaited<ReturnType<typeof serveHttp>>;
const baseOf = (served: Served) => served.url.replace(/\/trpc$/, '');

/** A request as `metricsAllowed` sees it: a peer address and headers. */
function fakeRequest(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  return { socket, headers } as unknown as IncomingMessage;
}

/** The samples of a Prometheus text exposition; throws on a line that is neither comment nor sample. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (\S+)$/;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = sample.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    // Go's ParseFloat, which Prometheus uses, reads NaN and Inf in any case.
    const raw = match[2]!.toLowerCase();
    const value =
      raw === 'nan'
        ? NaN
        : /^[+-]?inf$/.test(raw)
          ? raw.startsWith('-')
            ? -Infinity
            : Infinity
          : Number(raw);
    if (raw !== 'nan' && Number.isNaN(value)) throw new Error(`not a number: ${JSON.stringify(line)}`);
    samples.set(match[1]!, value);
  }
  return samples;
}

/** Opens a request and resolves with its response once the headers arrive. */
function openRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number> },
): { req: ReturnType<typeof request>; response: Promise<IncomingMessage> } {
  const req = request(url, { method: options.method ?? 'GET', headers: options.headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  return { req, response };
}

const bodyOf = (res: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.once('end', () => resolve(text));
    res.once('error', reject);
  });

describe('metricsAllowed: who may read /metrics', () => {
  it('serves loopback without a token, and refuses other addresses and proxied requests', () => {
    expect(metricsAllowed(fakeRequest('127.0.0.1'), undefined)).toBe(true);
    expect(metricsAllowed(fakeRequest('::1'), undefined)).toBe(true);
    expect(metricsAllowed(fakeRequest('::ffff:127.0.0.1'), undefined)).toBe(true);
    expect(metricsAllowed(fakeRequest('10.0.0.7'), undefined)).toBe(false);
    expect(metricsAllowed(fakeRequest('::ffff:192.168.1.4'), undefined)).toBe(false);
    // A reverse proxy on this machine connects from loopback for anyone on the internet.
    expect(metricsAllowed(fakeRequest('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }), undefined)).toBe(
      false,
    );
    expect(metricsAllowed(fakeRequest('127.0.0.1', { forwarded: 'for=203.0.113.9' }), undefined)).toBe(false);
  });

  it('with PARLEY_METRICS_TOKEN, serves whoever sends it as a Bearer token and nobody else', () => {
    const token = 's3cret-scrape-token';
    expect(metricsAllowed(fakeRequest('10.0.0.7', { authorization: `Bearer ${token}` }), token)).toBe(true);
    expect(metricsAllowed(fakeRequest('10.0.0.7', { authorization: 'Bearer wrong' }), token)).toBe(false);
    expect(metricsAllowed(fakeRequest('10.0.0.7', { authorization: `Basic ${token}` }), token)).toBe(false);
    expect(metricsAllowed(fakeRequest('10.0.0.7'), token)).toBe(false);
    expect(metricsAllowed(fakeRequest('127.0.0.1'), token)).toBe(false);
  });
});

describe('operations endpoints on a running server (embedded database)', () => {
  let h: ApiHarness;
  let served: Served;
  beforeAll(async () => {
    h = await openApiHarness('pglite');
    served = await serveHttp(h);
    await h.settle();
  });
  afterAll(async () => {
    await served.stop();
    await h.dispose();
  });

  it('answers /healthz and /readyz with 200 when the process is fit', async () => {
    const alive = await fetch(`${baseOf(served)}/healthz`);
    expect(alive.status).toBe(200);
    expect(await alive.json()).toEqual({ status: 'alive' });
    const ready = await fetch(`${baseOf(served)}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', failed: [] });
  });

  it('exposes Prometheus text with the named series, including a group commit made after start', async () => {
    const ana = await h.signIn('ana@demo.parley.test');
    await ana.caller.conversations.label({ conversationId: 'demo-1', label: 'metrics', action: 'add' });
    const response = await fetch(`${baseOf(served)}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await response.text());
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'parley_store_append_batch_seconds_bucket{le="+Inf"}',
      'parley_store_append_batch_size_count',
      'parley_grain_activations',
      'parley_grain_activations_total',
      'parley_grain_conflicts_total',
      'parley_queue_depth{queue="inbox",status="pending"}',
      'parley_queue_depth{queue="outbox",status="sending"}',
      'parley_queue_oldest_age_seconds{queue="inbox"}',
      'parley_queue_oldest_age_seconds{queue="outbox"}',
      'parley_outbox_breakers{state="open"}',
      'parley_board_connections',
      'parley_sse_streams',
      'parley_http_requests_in_flight',
      'parley_draining',
    ])
      expect(samples.has(name), name).toBe(true);

    expect(samples.get('parley_store_append_batch_size_count')).toBeGreaterThan(0);
    expect(samples.get('parley_grain_activations_total')).toBeGreaterThan(0);
    expect(samples.get('parley_queue_query_up')).toBe(1);
    expect(samples.get('parley_draining')).toBe(0);
  });

  it('refuses /metrics through a proxy on this machine (no token set)', async () => {
    const response = await fetch(`${baseOf(served)}/metrics`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('parley_');
  });

  it('answers /readyz with 503 naming "draining" once the server drains', async () => {
    const other = await serveHttp(h);
    try {
      other.server.operations.tracker.startDraining();
      const response = await fetch(`${baseOf(other)}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as Readiness;
      expect(body).toMatchObject({ status: 'not ready', failed: ['draining'] });
      expect(response.headers.get('connection')).toBe('close');
      // Alive is not ready: the process is not stuck, so the orchestrator must not kill it.
      expect((await fetch(`${baseOf(other)}/healthz`)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it('drains: refuses new connections, ends live streams for a reconnect, lets a slow request finish', async () => {
    const other = await serveHttp(h);
    const base = baseOf(other);
    const { tracker } = other.server.operations;
    const ben = await h.signIn('ben@demo.parley.test');
    // A live stream, as the PWA holds one.
    const input = encodeURIComponent(JSON.stringify({ cursor: null }));
    const stream = openRequest(`${base}/trpc/sync.live?input=${input}`, {
      headers: {
        accept: 'text/event-stream',
        cookie: `${SESSION_COOKIE}=${encodeURIComponent(ben.cookie)}`,
      },
    });
    stream.req.end();
    const streamResponse = await stream.response;
    expect(streamResponse.statusCode).toBe(200);
    let streamText = '';
    streamResponse.setEncoding('utf8');
    streamResponse.on('data', (chunk: string) => (streamText += chunk));
    const streamClosed = new Promise<void>((resolve) => streamResponse.once('close', () => resolve()));
    // A slow request: its body is half sent when the drain begins.
    const body = JSON.stringify({
      tenantId: 'demo',
      email: 'chloe@demo.parley.test',
      password: 'parley-demo-agent',
    });
    const slow = openRequest(`${base}/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    slow.req.write(body.slice(0, 10));
    await vi.waitFor(() => expect(tracker.inFlight()).toBe(1));
    expect(tracker.streams()).toBe(1);

    const drained = other.server.drain(10_000);
    expect(await other.server.operations.readiness()).toMatchObject({
      status: 'not ready',
      failed: ['draining'],
    });
    await expect(fetch(`${base}/healthz`)).rejects.toThrow(); // no new connections
    await streamClosed;
    // Cut, not ended: tRPC's clean "return" would tell the client the stream is over.
    expect(streamText).not.toContain('event: return');

    slow.req.end(body.slice(10));
    const slowResponse = await slow.response;
    expect(slowResponse.statusCode).toBe(200);
    expect(slowResponse.headers.connection).toBe('close');
    expect(await bodyOf(slowResponse)).toContain('chloe');
    expect(await drained).toEqual({ cutRequests: 0, endedStreams: 1 });
    expect(other.server.listening).toBe(false);
  });

  it('answers /readyz with 503 naming "database" once the database is closed', async () => {
    await h.services.db.close();
    const response = await fetch(`${baseOf(served)}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as Readiness;
    expect(body.status).toBe('not ready');
    expect(body.failed).toContain('database');
    expect(body.checks.database.ok).toBe(false);
    expect((await fetch(`${baseOf(served)}/healthz`)).status).toBe(200);
  });
});

describe('the parley process on SIGTERM', () => {
  it('drains and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-drain-'));
    try {
      const server = await startServer(dataDir, { env: { LOG_LEVEL: 'info' } });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(await server.stop()).toBe(0);
      expect(server.output()).toContain('"msg":"drained"');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
