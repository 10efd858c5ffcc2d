import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import { EventSource } from 'eventsource';
import pg from 'pg';
import { createApi, type Api } from '../src/api/context';
import { appRouter, type AppRouter } from '../src/api/router';
import { createCallerFactory } from '../src/api/trpc';
import { parseCookies, SESSION_COOKIE } from '../src/auth/cookies';
import type { AuthOptions } from '../src/auth/service';
import { createHttpServer, listen, type ParleyHttpServer } from '../src/http/server';
import { createLogger } from '../src/logger';
import { DEMO_ACCOUNTS, seedDemo } from '../src/seed';
import { openServices, type Services } from '../src/services';
import { POSTGRES_URL } from './support/databases';

/** The backends every API suite runs on: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const API_BACKENDS: readonly (readonly ['pglite' | 'postgres', boolean])[] = [
  ['pglite', true],
  ['postgres', POSTGRES_URL !== undefined],
];

/** A caller signed in (or not) as someone, and the cookies the server set for it. */
export interface TestClient {
  readonly caller: Caller;
  /** Every `Set-Cookie` the server sent to this client. */
  readonly setCookies: string[];
}

/** A whole Parley process (services + API) on a fresh database, with a clock tests can move. */
export interface ApiHarness {
  readonly kind: 'pglite' | 'postgres';
  readonly services: Services;
  readonly api: Api;
  /** Milliseconds the test clock runs ahead of the wall clock. */
  advance(ms: number): void;
  now(): number;
  /** A caller with this session cookie value (or none). */
  client(sessionCookie?: string, address?: string): TestClient;
  /** Signs in with a demo account by email and returns the signed-in client and its cookie value. */
  signIn(email: string, address?: string): Promise<TestClient & { readonly cookie: string }>;
  /** Waits until no event has been written for a moment: the workflow engine has done its part. */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

const createCaller = createCallerFactory(appRouter);
/** The whole router, called in process as one request's context. */
export type Caller = ReturnType<typeof createCaller>;

// The channels' simulators and their customer would write into the demo tenant while tests run.
process.env.PARLEY_SIMULATORS = 'off';

/** Opens services and the API on a fresh PGlite directory or PostgreSQL database, demo data seeded. */
export async function openApiHarness(
  kind: 'pglite' | 'postgres',
  options: { readonly auth?: Omit<AuthOptions, 'clock'> } = {},
): Promise<ApiHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-api-'));
  const database = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  let offset = 0;
  const now = () => Date.now() + offset;
  const services = await openServices(
    { databaseUrl: database?.url, dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' },
    createLogger('silent'),
  );
  // The embedded default seeds itself on open; a PostgreSQL server is seeded here the same way.
  if (kind === 'postgres') await seedDemo(services);
  const api = createApi(services, { auth: { ...options.auth, clock: now } });
  const client = (sessionCookie?: string, address = '10.0.0.1'): TestClient => {
    const setCookies: string[] = [];
    const caller = createCaller(
      api.createContext({ address, secure: false, sessionCookie, setCookie: (h) => setCookies.push(h) }),
    );
    return { caller, setCookies };
  };
  return {
    kind,
    services,
    api,
    advance: (ms) => {
      offset += ms;
    },
    now,
    client,
    async signIn(email, address) {
      const account = DEMO_ACCOUNTS.find((each) => each.email === email);
      if (!account) throw new Error(`no demo account ${email}`);
      const anonymous = client(undefined, address);
      await anonymous.caller.auth.signIn({
        tenantId: account.tenantId,
        email: account.email,
        password: account.password,
      });
      const cookie = sessionCookieOf(anonymous.setCookies.at(-1));
      if (!cookie) throw new Error('sign-in set no session cookie');
      return { ...client(cookie, address), cookie };
    },
    async settle() {
      let last = '';
      for (let quiet = 0; quiet < 3;) {
        const [row] = await services.db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
        quiet = row?.n === last ? quiet + 1 : 0;
        last = row?.n ?? '';
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    },
    async dispose() {
      await services.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The session cookie's value in a `Set-Cookie` header, or undefined. */
export function sessionCookieOf(setCookie: string | undefined): string | undefined {
  const value = parseCookies(setCookie?.split(';')[0]).get(SESSION_COOKIE);
  return value === '' ? undefined : value;
}

/** A database of its own on the DATABASE_URL server, dropped by `drop`. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!POSTGRES_URL) throw new Error('DATABASE_URL is not set');
  const name = `parley_api_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: POSTGRES_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A real tRPC client over HTTP, as the PWA builds it, with a cookie jar standing in for the browser. */
export interface HttpClient {
  readonly trpc: TRPCClient<AppRouter>;
  /** The session cookie's value the jar holds, if any. */
  readonly cookie: () => string | undefined;
  /** Every `Set-Cookie` header the server sent. */
  readonly setCookies: string[];
}

/** Serves the harness's API on an ephemeral port; resolves to its `/trpc` URL and a stop function. */
export async function serveHttp(
  h: ApiHarness,
): Promise<{ url: string; server: ParleyHttpServer; stop(): Promise<void> }> {
  const server = createHttpServer(h.services, { api: h.api });
  const address = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${address.port}/trpc`,
    server,
    stop: async () => {
      await server.boards.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * Queries and mutations over `httpBatchLink`, subscriptions over `httpSubscriptionLink` (SSE, with
 * the `eventsource` package: Node 20 has no global EventSource). Both send the jar's cookie.
 */
export function httpClient(url: string): HttpClient {
  let session: string | undefined;
  const setCookies: string[] = [];
  const withCookies = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    if (session) headers.set('cookie', `${SESSION_COOKIE}=${encodeURIComponent(session)}`);
    const response = await fetch(input, { ...init, headers });
    for (const header of response.headers.getSetCookie()) {
      setCookies.push(header);
      if (header.startsWith(`${SESSION_COOKIE}=`)) session = sessionCookieOf(header);
    }
    return response;
  };
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: () => ({ fetch: (input, init) => withCookies(input, init) }),
        }),
        false: httpBatchLink({ url, fetch: withCookies }),
      }),
    ],
  });
  return { trpc, cookie: () => session, setCookies };
}

/** Calls a procedure by its path (`conversations.list`); a subscription is read for 400 ms, then closed. */
export async function callByPath(caller: Caller, path: string, input: unknown): Promise<unknown> {
  const procedure = path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller);
  const result: unknown = await (procedure as (input: unknown) => Promise<unknown>)(input);
  if (result === null || typeof result !== 'object' || !(Symbol.asyncIterator in result)) return result;
  const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const received: unknown[] = [];
  const deadline = Date.now() + 400;
  try {
    while (Date.now() < deadline) {
      const next = await Promise.race([
        iterator.next(),
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), deadline - Date.now())),
      ]);
      if (next === 'timeout' || next.done) break;
      received.push(next.value);
    }
  } finally {
    void iterator.return?.();
  }
  return received;
}
