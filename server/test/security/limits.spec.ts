import { request } from 'node:http';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/context';
import { createFailureLimiter } from '../../src/auth/rate-limit';
import {
  clientAddress,
  parseTrustProxy,
  TRUST_NO_PROXY,
  type TrustProxy,
} from '../../src/http/client-address';
import { createHttpServer, listen } from '../../src/http/server';
import { openApiHarness, serveHttp, type ApiHarness } from '../api.support';

/** What a streamed upload saw: the server's status, and how many bytes had gone out by then. */
interface UploadOutcome {
  readonly status: number;
  readonly sentBeforeAnswer: number;
}

/**
 * POSTs `total` bytes in 64 KB chunks (with a Content-Length, or chunked), waiting for the socket
 * to drain between chunks, and stops sending as soon as the server answers.
 */
function uploadUntilAnswered(url: string, total: number, declareLength: boolean): Promise<UploadOutcome> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(declareLength ? { 'content-length': String(total) } : { 'transfer-encoding': 'chunked' }),
      },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sentBeforeAnswer: sent });
      req.destroy();
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    req.on('socket', () => pump());
  });
}

const MB = 1024 * 1024;

describe('[S6] limits on /trpc requests', () => {
  let h: ApiHarness;
  let http: Awaited<ReturnType<typeof serveHttp>>;
  beforeAll(async () => {
    h = await openApiHarness('pglite');
    http = await serveHttp(h);
  });
  afterAll(async () => {
    await http.stop();
    await h.dispose();
  });

  it('[S6] a 256 MB sign-in body with a Content-Length is refused with 413 before the client has sent it', async () => {
    const outcome = await uploadUntilAnswered(`${http.url}/auth.signIn`, 256 * MB, true);
    expect(outcome.status).toBe(413);
    expect(outcome.sentBeforeAnswer).toBeLessThan(64 * MB);
  });

  it('[S6] a chunked body without a Content-Length is refused with 413 once it passes the limit', async () => {
    const outcome = await uploadUntilAnswered(`${http.url}/auth.signIn`, 256 * MB, false);
    expect(outcome.status).toBe(413);
    expect(outcome.sentBeforeAnswer).toBeLessThan(64 * MB);
  });

  it('[S6] the server still answers after refusing large bodies', async () => {
    const response = await fetch(`${http.url}/health`);
    expect(response.status).toBe(200);
  });

  it('[S6] a batch of more than 50 calls is refused with 413; 50 are answered', async () => {
    const batch = (n: number) => `${http.url}/${Array.from({ length: n }, () => 'health').join(',')}?batch=1`;
    const refused = await fetch(batch(51));
    expect(refused.status).toBe(413);
    const body = (await refused.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe('PAYLOAD_TOO_LARGE');
    const answered = await fetch(batch(50));
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as unknown[]).length).toBe(50);
  });
});

/** The cause of a refused sign-in, as a caller sees it. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; retryAfterSeconds?: number }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a refusal, got ${String(error)}`);
  const cause = error.cause as { retryAfterSeconds?: number } | undefined;
  return { code: error.code, retryAfterSeconds: cause?.retryAfterSeconds };
}

/** Signs in over HTTP; the status and the error data when refused. */
async function signInOverHttp(
  url: string,
  input: { tenantId: string; email: string; password: string },
  headers: Record<string, string> = {},
): Promise<{ status: number; data?: { retryAfterSeconds?: number; code?: string } }> {
  const response = await fetch(`${url}/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as {
    error?: { data?: { retryAfterSeconds?: number; code?: string } };
  };
  return { status: response.status, data: body.error?.data };
}

describe('[S7] sign-in rate limiting', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await openApiHarness('pglite');
  });
  afterAll(async () => {
    await h.dispose();
  });
  const ben = { tenantId: 'demo', email: 'ben@demo.parley.test', password: 'parley-demo-agent' };

  it('[S7] successful sign-ins are not counted: 40 in a row from one address all succeed', async () => {
    const anonymous = h.client(undefined, '10.7.0.1').caller;
    for (let i = 0; i < 40; i++) {
      const answer = await anonymous.auth.signIn(ben);
      expect(answer.agent.id).toBe('ben');
    }
  });

  it('[S7] an address already refused does not count against the accounts it keeps guessing at', async () => {
    const attacker = h.client(undefined, '10.7.0.2').caller;
    for (let i = 0; i < 30; i++) {
      const answer = await refusal(
        attacker.auth.signIn({ tenantId: 'demo', email: `nobody${i}@demo.parley.test`, password: 'x' }),
      );
      expect(answer.code).toBe('UNAUTHORIZED');
    }
    for (let i = 0; i < 20; i++) {
      const answer = await refusal(attacker.auth.signIn({ ...ben, password: `guess-${i}` }));
      expect(answer.code).toBe('TOO_MANY_REQUESTS');
    }
    const owner = h.client(undefined, '10.7.0.3').caller;
    expect((await owner.auth.signIn(ben)).agent.id).toBe('ben');
  });

  it('[S7] failures slow an account down progressively (1 s, 2 s, 4 s), never a 15-minute lock-out', async () => {
    const chloe = { tenantId: 'demo', email: 'chloe@demo.parley.test', password: 'parley-demo-agent' };
    const guesser = h.client(undefined, '10.7.0.4').caller;
    for (let i = 0; i < 5; i++) {
      expect((await refusal(guesser.auth.signIn({ ...chloe, password: `wrong-${i}` }))).code).toBe(
        'UNAUTHORIZED',
      );
    }
    for (const seconds of [1, 2, 4]) {
      expect(await refusal(guesser.auth.signIn(chloe))).toEqual({
        code: 'TOO_MANY_REQUESTS',
        retryAfterSeconds: seconds,
      });
      h.advance(seconds * 1000);
      if (seconds < 4) {
        const wrong = await refusal(guesser.auth.signIn({ ...chloe, password: 'wrong-again' }));
        expect(wrong.code).toBe('UNAUTHORIZED');
      }
    }
    expect((await guesser.auth.signIn(chloe)).agent.id).toBe('chloe');
  });

  it('[S7] the limiter keeps a bounded number of keys, dropping the least recently used', () => {
    let now = 0;
    const limiter = createFailureLimiter(
      { freeFailures: 1, baseDelayMs: 1000, maxDelayMs: 60_000, forgetAfterMs: 3_600_000, maxKeys: 100 },
      () => now,
    );
    limiter.attempt('first');
    for (let i = 0; i < 10_000; i++) limiter.attempt(`flood-${i}`);
    expect(limiter.size).toBe(100);
    expect(limiter.attempt('first')).toEqual({ allowed: true }); // forgotten, not swept
    now = 10;
    expect(limiter.attempt('flood-9999')).toEqual({ allowed: false, retryAfterMs: 990 });
  });

  it('[S7] behind a trusted proxy each client has its own budget, and a client cannot pick its address', async () => {
    const serve = async (trustProxy: TrustProxy) => {
      const server = createHttpServer(h.services, {
        api: createApi(h.services, { auth: { clock: () => h.now() }, trustProxy }),
      });
      const address = await listen(server, 0, '127.0.0.1');
      return {
        url: `http://127.0.0.1:${address.port}/trpc`,
        stop: async () => {
          await server.boards.close();
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    };
    const wrong = (i: number) => ({
      tenantId: 'demo',
      email: `stranger${i}@demo.parley.test`,
      password: 'x',
    });

    const proxied = await serve({ kind: 'hops', hops: 1 });
    try {
      for (let i = 0; i < 30; i++) {
        const answer = await signInOverHttp(proxied.url, wrong(i), { 'x-forwarded-for': '203.0.113.7' });
        expect(answer.status).toBe(401);
      }
      const refused = await signInOverHttp(proxied.url, ben, { 'x-forwarded-for': '203.0.113.7' });
      expect(refused.status).toBe(429);
      expect(refused.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 });
      const other = await signInOverHttp(proxied.url, ben, { 'x-forwarded-for': '203.0.113.8' });
      expect(other.status).toBe(200);
    } finally {
      await proxied.stop();
    }

    h.advance(2 * 3_600_000);
    const direct = await serve(TRUST_NO_PROXY);
    try {
      for (let i = 0; i < 30; i++) {
        const spoofed = { 'x-forwarded-for': `198.51.100.${i}` };
        expect((await signInOverHttp(direct.url, wrong(i), spoofed)).status).toBe(401);
      }
      const spoofed = { 'x-forwarded-for': '198.51.100.200' };
      expect((await signInOverHttp(direct.url, ben, spoofed)).status).toBe(429);
    } finally {
      await direct.stop();
    }
  });

  it('[S7] X-Forwarded-For is walked from the right past the listed proxies only', () => {
    const req = (peer: string, forwarded: string) =>
      ({ socket: { remoteAddress: peer }, headers: { 'x-forwarded-for': forwarded } }) as never;
    const proxies = parseTrustProxy('10.0.0.1, 10.0.0.2');
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.2'), proxies)).toBe('203.0.113.9');
    expect(clientAddress(req('192.0.2.1', '203.0.113.9'), proxies)).toBe('192.0.2.1');
    expect(clientAddress(req('::ffff:10.0.0.1', '203.0.113.9'), parseTrustProxy('1'))).toBe('203.0.113.9');
    expect(clientAddress(req('10.0.0.1', '203.0.113.9'), parseTrustProxy(undefined))).toBe('10.0.0.1');
    expect(() => parseTrustProxy('proxy.example')).toThrow(/PARLEY_TRUST_PROXY/);
  });
});
