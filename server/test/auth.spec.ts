import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie } from '../src/auth/cookies';
import { hashPassword, verifyPassword } from '../src/auth/passwords';
import { createFailureLimiter } from '../src/auth/rate-limit';
import { withTenant } from '../src/auth/tenant-scope';
import { runCli } from '../src/cli';
import { tenantId } from '@parley/domain';
import { API_BACKENDS, openApiHarness, type ApiHarness } from './api.support';

const DAY = 86_400_000;

/** The tRPC error a promise rejects with. */
async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe('passwords', () => {
  it('hashes with Argon2id at OWASP’s baseline and a fresh salt each time', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword(first, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(first, 'correct horse battery!')).toBe(false);
    expect(await verifyPassword('not a hash', 'anything')).toBe(false);
  });
});

describe('cookies', () => {
  it('are httpOnly, SameSite=Strict, site-wide, and Secure only over HTTPS', () => {
    const plain = serializeCookie('parley_session', 'demo.abc', { maxAgeSeconds: 60, secure: false });
    expect(plain).toBe('parley_session=demo.abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(serializeCookie('s', 'v', { maxAgeSeconds: 0, secure: true })).toMatch(/; Max-Age=0; Secure$/);
  });

  it('parse a Cookie header, skipping malformed pairs', () => {
    const cookies = parseCookies('a=1; parley_session=demo.x%2Fy; bad; c=%E0%A4%A; a=2');
    expect(cookies.get('parley_session')).toBe('demo.x/y');
    expect(cookies.get('a')).toBe('1');
    expect(cookies.has('c')).toBe(false);
  });
});

describe('failure limiter', () => {
  it('lets the free failures through, then says when to retry, and forgets a cleared key', () => {
    let now = 0;
    const policy = {
      freeFailures: 2,
      baseDelayMs: 1000,
      maxDelayMs: 8000,
      forgetAfterMs: 60_000,
      maxKeys: 10,
    };
    const limiter = createFailureLimiter(policy, () => now);
    expect(limiter.attempt('k')).toEqual({ allowed: true });
    expect(limiter.attempt('k')).toEqual({ allowed: true });
    now = 400;
    expect(limiter.attempt('k')).toEqual({ allowed: false, retryAfterMs: 600 });
    expect(limiter.attempt('other')).toEqual({ allowed: true });
    now = 1000;
    expect(limiter.attempt('k')).toEqual({ allowed: true });
    limiter.forget('k');
    expect(limiter.attempt('k')).toEqual({ allowed: true });
  });
});

describe.each(API_BACKENDS)('sign-in and sessions on %s', (kind, enabled) => {
  let h: ApiHarness;
  beforeAll(async () => {
    if (enabled) h = await openApiHarness(kind);
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)('signs in with the right password and sets an httpOnly session cookie', async () => {
    const anonymous = h.client(undefined, '10.1.0.1');
    const answer = await anonymous.caller.auth.signIn({
      tenantId: 'demo',
      email: ' Ana@Demo.Parley.Test ',
      password: 'parley-demo-agent',
    });
    expect(answer.agent).toMatchObject({ id: 'ana', role: 'agent' });
    expect(JSON.stringify(answer)).not.toContain('argon2');
    const [cookie] = anonymous.setCookies;
    expect(cookie).toMatch(
      /^parley_session=demo\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=2592000$/,
    );
  });

  it.skipIf(!enabled)('refuses a wrong password, an unknown email and an unknown tenant alike', async () => {
    const anonymous = h.client(undefined, '10.1.0.2').caller;
    const wrong = [
      { tenantId: 'demo', email: 'ana@demo.parley.test', password: 'parley-demo-agenT' },
      { tenantId: 'demo', email: 'nobody@demo.parley.test', password: 'parley-demo-agent' },
      { tenantId: 'globex', email: 'ana@demo.parley.test', password: 'parley-demo-agent' },
      { tenantId: 'NOT A TENANT', email: 'ana@demo.parley.test', password: 'parley-demo-agent' },
    ];
    for (const attempt of wrong) {
      const error = await trpcError(anonymous.auth.signIn(attempt));
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toBe('the workspace, email or password is wrong');
    }
  });

  it.skipIf(!enabled)(
    'rate-limits guesses at one account, even with the right password, until the window ends',
    async () => {
      const anonymous = h.client(undefined, '10.1.0.3').caller;
      const guess = (password: string) =>
        anonymous.auth.signIn({ tenantId: 'demo', email: 'ben@demo.parley.test', password });
      for (let i = 0; i < 5; i++) expect((await trpcError(guess(`wrong-${i}`))).code).toBe('UNAUTHORIZED');
      const limited = await trpcError(guess('parley-demo-agent'));
      expect(limited.code).toBe('TOO_MANY_REQUESTS');
      // Another account from the same address is not locked out by these.
      await anonymous.auth.signIn({
        tenantId: 'demo',
        email: 'chloe@demo.parley.test',
        password: 'parley-demo-agent',
      });
      h.advance(15 * 60_000);
      expect((await guess('parley-demo-agent')).agent.id).toBe('ben');
    },
  );

  it.skipIf(!enabled)('rate-limits one address guessing across many accounts', async () => {
    const anonymous = h.client(undefined, '10.1.0.4').caller;
    let refused = 0;
    for (let i = 0; i < 32; i++) {
      const error = await trpcError(
        anonymous.auth.signIn({ tenantId: 'demo', email: `user${i}@demo.parley.test`, password: 'x' }),
      );
      if (error.code === 'TOO_MANY_REQUESTS') refused++;
    }
    expect(refused).toBe(2);
    h.advance(15 * 60_000);
  });

  it.skipIf(!enabled)('ends an idle session after 7 days, and keeps a used one alive', async () => {
    const idle = await h.signIn('chloe@demo.parley.test', '10.1.0.5');
    const busy = await h.signIn('chloe@demo.parley.test', '10.1.0.5');
    h.advance(6 * DAY);
    await busy.caller.auth.me();
    h.advance(DAY + 1);
    expect((await trpcError(h.client(idle.cookie).caller.auth.me())).code).toBe('UNAUTHORIZED');
    expect((await h.client(busy.cookie).caller.auth.me()).agent.id).toBe('chloe');
    // The expired row is gone, not merely refused.
    const hashOf = (cookie: string) =>
      createHash('sha256')
        .update(cookie.slice(cookie.indexOf('.') + 1))
        .digest('hex');
    const rows = await withTenant(h.services.db.sql, tenantId('demo'), (tx) =>
      tx.query<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE token_hash = ANY($1::text[])', [
        [hashOf(idle.cookie), hashOf(busy.cookie)],
      ]),
    );
    expect(rows.map((row) => row.token_hash)).toEqual([hashOf(busy.cookie)]);
  });

  it.skipIf(!enabled)('ends every session 30 days after sign-in however busy it is', async () => {
    const session = await h.signIn('ana@demo.parley.test', '10.1.0.6');
    for (let week = 0; week < 7; week++) {
      h.advance(4 * DAY);
      await h.client(session.cookie).caller.auth.me();
    }
    h.advance(2 * DAY);
    expect((await trpcError(h.client(session.cookie).caller.auth.me())).code).toBe('UNAUTHORIZED');
  });

  it.skipIf(!enabled)('signs out one session and clears its cookie; others live on', async () => {
    const phone = await h.signIn('ben@demo.parley.test', '10.1.0.7');
    const laptop = await h.signIn('ben@demo.parley.test', '10.1.0.7');
    const out = h.client(phone.cookie);
    expect(await out.caller.auth.signOut()).toEqual({ signedOut: true });
    expect(out.setCookies.at(-1)).toMatch(/^parley_session=; .*Max-Age=0/);
    expect((await trpcError(h.client(phone.cookie).caller.auth.me())).code).toBe('UNAUTHORIZED');
    expect((await h.client(laptop.cookie).caller.auth.me()).agent.id).toBe('ben');
  });

  it.skipIf(!enabled)('signs out everywhere: every session of the agent, and only theirs', async () => {
    const first = await h.signIn('ada@demo.parley.test', '10.1.0.8');
    const second = await h.signIn('ada@demo.parley.test', '10.1.0.8');
    const other = await h.signIn('ana@demo.parley.test', '10.1.0.8');
    const { sessionsEnded } = await h.client(first.cookie).caller.auth.signOutEverywhere();
    expect(sessionsEnded).toBeGreaterThanOrEqual(2);
    for (const cookie of [first.cookie, second.cookie]) {
      expect((await trpcError(h.client(cookie).caller.auth.me())).code).toBe('UNAUTHORIZED');
    }
    expect((await h.client(other.cookie).caller.auth.me()).agent.id).toBe('ana');
  });

  it.skipIf(!enabled)('refuses a forged or re-targeted cookie', async () => {
    const real = await h.signIn('gina@globex.parley.test', '10.1.0.9');
    const token = real.cookie.slice(real.cookie.indexOf('.') + 1);
    for (const cookie of [`demo.${token}`, `globex.${token.slice(1)}x`, 'globex', '', 'demo.']) {
      expect((await trpcError(h.client(cookie).caller.auth.me())).code).toBe('UNAUTHORIZED');
    }
    expect((await h.client(real.cookie).caller.auth.me()).tenant.id).toBe('globex');
  });

  it.skipIf(!enabled)('reads the role fresh on every request', async () => {
    const gus = await h.signIn('gus@globex.parley.test', '10.1.0.10');
    await h.client(gus.cookie).caller.admin.people.createTeam({ name: 'Before' });
    await withTenant(h.services.db.sql, tenantId('globex'), (tx) =>
      tx.query("UPDATE agents SET role = 'agent' WHERE id = 'gus'"),
    );
    try {
      const error = await trpcError(h.client(gus.cookie).caller.admin.people.createTeam({ name: 'After' }));
      expect(error.code).toBe('FORBIDDEN');
    } finally {
      await withTenant(h.services.db.sql, tenantId('globex'), (tx) =>
        tx.query("UPDATE agents SET role = 'admin' WHERE id = 'gus'"),
      );
    }
  });
});

describe('the CLI', () => {
  let dataDir: string;
  const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    process.env.DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
  });
  afterAll(() => {
    process.env.DATA_DIR = saved.DATA_DIR;
    if (saved.DATABASE_URL !== undefined) process.env.DATABASE_URL = saved.DATABASE_URL;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a tenant and agents, generating a password when none is given', async () => {
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    await runCli(['tenant', 'create', 'acme', '--name', 'Acme Inc'], print);
    await runCli(
      [
        'agent',
        'create',
        '--tenant',
        'acme',
        '--email',
        'Boss@Acme.test',
        '--name',
        'Boss',
        '--role',
        'admin',
        '--password',
        'a long password',
      ],
      print,
    );
    await runCli(['agent', 'create', '--tenant', 'acme', '--email', 'new@acme.test', '--name', 'New'], print);
    expect(lines).toContainEqual('created tenant acme (Acme Inc)');
    expect(lines.some((line) => /^created admin Boss <boss@acme\.test> in acme/.test(line))).toBe(true);
    expect(lines.some((line) => /^password: [A-Za-z0-9_-]{16} /.test(line))).toBe(true);
    await expect(runCli(['tenant', 'create', 'acme', '--name', 'Again'], print)).rejects.toThrow(
      /already exists/,
    );
    await expect(runCli(['tenant', 'create', 'Bad Id', '--name', 'x'], print)).rejects.toThrow(/malformed/);
    await expect(
      runCli(
        [
          'agent',
          'create',
          '--tenant',
          'acme',
          '--email',
          'x@acme.test',
          '--name',
          'X',
          '--password',
          'short',
        ],
        print,
      ),
    ).rejects.toThrow(/at least 10 characters/);
  });
});
