import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { tenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/context';
import { createFailureLimiter } from '../../src/auth/rate-limit';
import { newVisitorId, visitorToken } from '../../src/channels/signature';
import {
  clientAddress,
  parseTrustProxy,
  TRUST_NO_PROXY,
  type TrustProxy,
} from '../../src/http/client-address';
import { createHttpServer, listen } from '../../src/http/server';
import type { LiveMessage } from '../../src/sync/live';
import { liveStreamCapOf } from '../../src/sync/live-cap';
import { openApiHarness, serveHttp, type ApiHarness } from '../api.support';
import { APPS, FAST, openHarness, TENANT, type Harness } from '../fixtures/channels/harness';

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

/** True for the `[id, data]` envelope a tracked message is in process. */
const isEnvelope = (message: unknown): message is [string, LiveMessage] =>
  Array.isArray(message) && message.length >= 2 && typeof message[0] === 'string';

describe('[S8] live streams and webhook refusals', () => {
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

  it('[S8] a session holds at most 8 live streams: a ninth closes the oldest with a clear error', async () => {
    const ana = await h.signIn('ana@demo.parley.test', '10.8.0.1');
    let head: string | null = null;
    for (let more = true; more;) {
      const page = await ana.caller.sync.catchUp({ cursor: head, limit: 1000 });
      if (page.kind !== 'events') throw new Error('unexpected resync');
      head = page.cursor;
      more = page.hasMore;
    }
    const firsts: Promise<IteratorResult<unknown>>[] = [];
    for (let i = 0; i < 9; i++) {
      const stream = (await ana.caller.sync.live({ cursor: head })) as AsyncIterable<unknown>;
      const next = stream[Symbol.asyncIterator]().next();
      next.catch(() => undefined); // the streams still open end when the harness closes
      firsts.push(next);
    }
    const oldest = await firsts[0]!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(oldest).toBeInstanceOf(TRPCError);
    expect(oldest).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect((oldest as Error).message).toMatch(/more than 8 live streams/);
    const cap = liveStreamCapOf(h.services);
    const tokenHash = createHash('sha256')
      .update(ana.cookie.slice(ana.cookie.indexOf('.') + 1))
      .digest('hex');
    expect(cap.count(tokenHash)).toBe(8);
    // The other eight still deliver: a new event reaches the newest stream.
    await ana.caller.conversations.note({ conversationId: 'demo-1', noteId: 's8-note', text: 'still live' });
    const delivered: unknown = (await firsts[8]!).value;
    const message = isEnvelope(delivered) ? delivered[1] : delivered;
    expect(message).toMatchObject({ kind: 'event' });
  });

  it('[S8] a flood of unsigned and oversized webhooks writes nothing and is counted per app for the admin', async () => {
    const appId = 'demo-wa-s8';
    await h.services.channels.repo.ensureApp({
      tenantId: tenantId('demo'),
      appId,
      kind: 'whatsapp',
      secret: 'wa-s8-secret-0123456789abcdef0123456789',
    });
    const base = http.url.replace(/\/trpc$/, '');
    const rows = async () =>
      (await h.services.db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_rejections'))[0]!
        .n;
    const before = await rows();
    const big = 'x'.repeat(1_100_000);
    for (let i = 0; i < 5; i++) {
      const oversized = await fetch(`${base}/webhooks/whatsapp/${appId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) },
        body: `{"object":"${big}"}`,
      });
      expect(oversized.status).toBe(413);
      const unsigned = await fetch(`${base}/webhooks/whatsapp/${appId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"object":"whatsapp_business_account","entry":[]}',
      });
      expect(unsigned.status).toBe(401);
    }
    expect(await rows()).toBe(before);
    const admin = await h.signIn('ada@demo.parley.test', '10.8.0.2');
    const overview = await admin.caller.admin.channels.overview();
    expect(overview.apps.find((app) => app.appId === appId)?.refusals).toEqual({
      unauthorized: 5,
      too_large: 5,
      rate_limited: 0,
      forbidden_origin: 0,
    });
  });
});

describe('[S8] web chat limits and pruning', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness('pglite', {
      ...FAST,
      simulators: false,
      webchatLimits: {
        sessionsPerAddress: { attempts: 3, windowMs: 60_000, maxKeys: 100 },
        eventsPerVisitor: { attempts: 3, windowMs: 60_000, maxKeys: 100 },
      },
    });
  });
  afterAll(async () => {
    await h.close();
  });
  const webchat = `/webchat/${APPS.webchat.appId}`;

  it('[S8] visitor sessions are limited per address, answered 429 with Retry-After', async () => {
    const session = () => fetch(`${h.url}${webchat}/session`, { method: 'POST', body: '{}' });
    for (let i = 0; i < 3; i++) expect((await session()).status).toBe(200);
    const refused = await session();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: 'RATE_LIMITED' });
    expect(h.channels.refusals.of(APPS.webchat.appId).rate_limited).toBeGreaterThanOrEqual(1);
  });

  it('[S8] a visitor’s messages are limited, and a refused one stores nothing', async () => {
    const token = (
      (await (
        await fetch(`${h.url}${webchat}/session`, { method: 'POST', body: '{}' })
      )
        .json()
        .catch(() => ({}))) as {
        token?: string;
      }
    ).token;
    // The address's sessions are used up by the previous test: a token is minted directly.
    const visitor = token ?? visitorToken(APPS.webchat.secret, APPS.webchat.appId, newVisitorId());
    const post = (i: number) =>
      fetch(`${h.url}${webchat}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${visitor}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', id: `m${i}`, text: `hello ${i}` }),
      });
    for (let i = 0; i < 3; i++) expect((await post(i)).status).toBe(200);
    const inboxBefore = await h.count('webhook_inbox');
    const refused = await post(3);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await h.count('webhook_inbox')).toBe(inboxBefore);
  });

  it('[S8] pruning deletes old processed deliveries, rejections and web chat replies; dead letters and recent rows stay', async () => {
    const sql = h.database.db.sql;
    const old = new Date(Date.now() - 40 * 86_400_000);
    const recent = new Date();
    const inbox = (key: string, status: string, at: Date) =>
      sql.query(
        `INSERT INTO webhook_inbox (tenant_id, app_id, kind, body, dedupe_key, status, received_at, processed_at)
         VALUES ($1, $2, 'webchat', '{}', $3, $4, $5, $5)`,
        [TENANT, APPS.webchat.appId, key, status, at],
      );
    await inbox('s8-old-processed', 'processed', old);
    await inbox('s8-old-dead', 'dead', old);
    await inbox('s8-new-processed', 'processed', recent);
    for (const at of [old, recent]) {
      await sql.query(
        `INSERT INTO webhook_rejections (tenant_id, app_id, reason, http_status, size_bytes, excerpt, received_at)
         VALUES ($1, $2, 'malformed', 400, 1, '{', $3)`,
        [TENANT, APPS.webchat.appId, at],
      );
      await sql.query(
        `INSERT INTO webchat_messages (tenant_id, channel_id, visitor_id, message_id, send_key, content, created_at)
         VALUES ($1, 'wc', 'v', $2, $2, '{}', $3)`,
        [TENANT, `s8-${at.getTime()}`, at],
      );
    }
    const pruned = await h.channels.prune();
    expect(pruned).toEqual({ webhookInbox: 1, webhookRejections: 1, webchatMessages: 1 });
    expect(await h.count('webhook_inbox', "dedupe_key LIKE 's8-%'")).toBe(2);
    expect(await h.count('webhook_inbox', "dedupe_key = 's8-old-dead'")).toBe(1);
    expect(await h.count('webhook_rejections')).toBe(1);
    expect(await h.count('webchat_messages', "message_id LIKE 's8-%'")).toBe(1);
  });
});
