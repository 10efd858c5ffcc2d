import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { tenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyContent } from '../../src/api/schemas';
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from '../../src/auth/cookies';
import { WIDGET_SCRIPT } from '../../src/channels/webchat/widget';
import { cspHash, createSecurityHeaders } from '../../src/http/security-headers';
import { createLogger } from '../../src/logger';
import { openApiHarness, serveHttp, type ApiHarness } from '../api.support';

const DEMO = tenantId('demo');
const ADA = { tenantId: 'demo', email: 'ada@demo.parley.test', password: 'parley-demo-admin' };
const WIDGET_APP = 'headers-webchat';

/** A Parley server on PGlite, with `PARLEY_PUBLIC_URL` as given while its channels start. */
async function serve(publicUrl: string | undefined) {
  const previous = process.env.PARLEY_PUBLIC_URL;
  if (publicUrl === undefined) delete process.env.PARLEY_PUBLIC_URL;
  else process.env.PARLEY_PUBLIC_URL = publicUrl;
  let h: ApiHarness;
  try {
    h = await openApiHarness('pglite');
  } finally {
    if (previous === undefined) delete process.env.PARLEY_PUBLIC_URL;
    else process.env.PARLEY_PUBLIC_URL = previous;
  }
  await h.services.channels.repo.ensureApp({
    appId: WIDGET_APP,
    tenantId: DEMO,
    kind: 'webchat',
    secret: 'headers-webchat-secret-0123456789',
  });
  const http = await serveHttp(h);
  const base = http.url.replace(/\/trpc$/, '');
  return {
    h,
    base,
    signIn: (headers: Record<string, string> = {}) =>
      fetch(`${base}/trpc/auth.signIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(ADA),
      }),
    async close() {
      await http.stop();
      await h.dispose();
    },
  };
}

type Served = Awaited<ReturnType<typeof serve>>;

describe('headers, cookies and origin over http (no public URL)', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(undefined);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('[S17] every response carries a CSP without unsafe-inline or unsafe-eval, nosniff, no referrer and no framing', async () => {
    const responses = [
      await fetch(`${s.base}/trpc/health`),
      await fetch(`${s.base}/`),
      await fetch(`${s.base}/webhooks/whatsapp/nobody`, { method: 'POST', body: '{}' }),
      await fetch(`${s.base}/webchat/widget.js`),
      await fetch(`${s.base}/no/such/thing.png`),
    ];
    for (const response of responses) {
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, response.url).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toBeNull();
      await response.body?.cancel();
    }
  });

  it("[S17] the PWA's inline scripts and styles are allowed by their hashes, read from the built pages", () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-csp-'));
    try {
      writeFileSync(
        join(dir, 'index.html'),
        '<html><head><script src="/a.js"></script><style>a{b:c}</style></head>' +
          '<body><script>console.log(1)</script><script type="module">go()</script></body></html>',
      );
      const { contentSecurityPolicy } = createSecurityHeaders({ webDir: dir, publicUrl: () => undefined });
      const directive = (name: string) =>
        contentSecurityPolicy.split('; ').find((d) => d.startsWith(`${name} `)) ?? '';
      expect(directive('script-src')).toBe(
        `script-src 'self' ${cspHash('console.log(1)')} ${cspHash('go()')}`,
      );
      expect(directive('style-src')).toBe(`style-src 'self' ${cspHash('a{b:c}')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('[S17] the web chat page has its own policy: it may be framed, and neither it nor the widget uses style attributes', async () => {
    const response = await fetch(`${s.base}/webchat/${WIDGET_APP}`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('frame-ancestors *');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const page = await response.text();
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    expect(csp).toContain(cspHash(style));
    expect(page).not.toMatch(/\sstyle="/);
    expect(page).not.toMatch(/<script>/);
    // The widget builds its markup with innerHTML: a style attribute there is blocked by such a CSP.
    expect(WIDGET_SCRIPT).not.toMatch(/style=/);
  });

  it('[S18] over http the session cookie keeps its plain name, HttpOnly and SameSite=Strict, without Secure', async () => {
    const response = await s.signIn();
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie()[0]!;
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure');
  });

  it("[S18] a /trpc mutation from another site's page gets 403 and changes nothing", async () => {
    const before = await s.h.services.db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM sessions');
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'not a url' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refused) {
      const response = await s.signIn(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.text()).toContain('cross-origin request refused');
    }
    const after = await s.h.services.db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM sessions');
    expect(after).toEqual(before);
  });

  it("[S18] the server's own origin, and clients that send no Origin, may post; queries are not checked", async () => {
    expect((await s.signIn({ origin: s.base })).status).toBe(200);
    expect((await s.signIn({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await s.signIn()).status).toBe(200);
    const query = await fetch(`${s.base}/trpc/health`, { headers: { origin: 'https://evil.example' } });
    expect(query.status).toBe(200);
  });

  it('[S18] a media URL in a reply must be https (http only for localhost)', () => {
    const media = (url: string) =>
      replyContent.safeParse({
        type: 'media',
        media: { kind: 'image', url, mime: 'image/png', size: 1 },
        caption: null,
      }).success;
    expect(media('https://cdn.example/a.png')).toBe(true);
    expect(media('http://localhost:4000/a.png')).toBe(true);
    expect(media('http://127.0.0.1/a.png')).toBe(true);
    expect(media('http://cdn.example/a.png')).toBe(false);
    expect(media('javascript:alert(1)')).toBe(false);
    expect(media('data:image/png;base64,AAAA')).toBe(false);
    expect(media('file:///etc/passwd')).toBe(false);
  });

  it('[S19] an empty or short webhook secret is refused with a clear error, and nothing is written', async () => {
    const { repo } = s.h.services.channels;
    for (const secret of ['', '   ', 'short', '0123456789abcde']) {
      await expect(
        repo.ensureApp({ appId: 'weak-app', tenantId: DEMO, kind: 'whatsapp', secret }),
      ).rejects.toThrow(/at least 16 characters/);
      await expect(repo.rotateSecret(WIDGET_APP, secret, 0)).rejects.toThrow(/at least 16 characters/);
    }
    expect(await repo.app('weak-app')).toBeUndefined();
    expect((await repo.app(WIDGET_APP))?.secret).toBe('headers-webchat-secret-0123456789');
  });

  it('[S19] the database refuses a short webhook secret however it is written (CHECK)', async () => {
    const sql = s.h.services.db.sql;
    await expect(
      sql.query(
        `INSERT INTO channel_apps (app_id, tenant_id, kind, secret) VALUES ('weak-sql', 'demo', 'whatsapp', 'x')`,
      ),
    ).rejects.toThrow(/channel_apps_secret_length/);
    await expect(
      sql.query(`UPDATE channel_apps SET previous_secret = 'y' WHERE app_id = $1`, [WIDGET_APP]),
    ).rejects.toThrow(/channel_apps_previous_secret_length/);
  });
});

describe('headers and cookies over an https public URL', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve('https://parley.example');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('[S17] responses carry HSTS when the public URL is https', async () => {
    for (const path of ['/trpc/health', '/']) {
      const response = await fetch(`${s.base}${path}`);
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000');
      await response.body?.cancel();
    }
  });

  it('[S18] the session cookie is __Host- and Secure, and a plain-named cookie is not a session', async () => {
    const response = await s.signIn({ origin: 'https://parley.example' });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie()[0]!;
    expect(cookie.startsWith(`${SECURE_SESSION_COOKIE}=`)).toBe(true);
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toMatch(/Domain=/i);
    const value = cookie.slice(SECURE_SESSION_COOKIE.length + 1, cookie.indexOf(';'));
    const me = (name: string) => fetch(`${s.base}/trpc/auth.me`, { headers: { cookie: `${name}=${value}` } });
    expect((await me(SECURE_SESSION_COOKIE)).status).toBe(200);
    // Planted over http or by a sibling subdomain: not ours to trust.
    expect((await me(SESSION_COOKIE)).status).toBe(401);
  });
});

describe('logs', () => {
  it('[S19] log lines never contain passwords, secrets, tokens, cookies or authorization headers', () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const secrets = Array.from({ length: 14 }, (_, i) => `SECRET-VALUE-${i}-x`);
    logger.info(
      {
        password: secrets[0],
        app: { secret: secrets[1], previousSecret: secrets[2], verifyToken: secrets[3] },
        channel: { accessToken: secrets[4] },
        token: secrets[5],
        req: {
          headers: {
            cookie: `parley_session=${secrets[6]}`,
            authorization: `Bearer ${secrets[7]}`,
            'x-hub-signature-256': `sha256=${secrets[8]}`,
            'x-telegram-bot-api-secret-token': secrets[9],
          },
        },
        res: { headers: { 'set-cookie': `parley_session=${secrets[10]}` } },
        input: { password: secrets[11], sessionCookie: secrets[12] },
        account: { passwordHash: secrets[13] },
        harmless: 'kept',
      },
      'probe',
    );
    const output = lines.join('');
    expect(output).toContain('"harmless":"kept"');
    expect(output).toContain('[redacted]');
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
