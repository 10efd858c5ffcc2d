import { SESSION_COOKIE } from '../../src/auth/cookies';
import { openApiHarness, serveHttp, type ApiHarness, type Caller } from '../api.support';

/** An API harness served over HTTP, for tests of the plain routes beside tRPC (`/api/...`). */
export interface HttpHarness {
  readonly h: ApiHarness;
  /** The server's origin, e.g. `http://127.0.0.1:40123`. */
  readonly base: string;
  /** Signs in with a demo account: its caller, and the `cookie` header its requests carry. */
  session(email: string): Promise<{ readonly caller: Caller; readonly cookie: string }>;
  dispose(): Promise<void>;
}

/** Opens a harness on a fresh database of `kind` and serves it on an ephemeral port. */
export async function openHttpHarness(kind: 'pglite' | 'postgres'): Promise<HttpHarness> {
  const h = await openApiHarness(kind);
  const http = await serveHttp(h);
  return {
    h,
    base: http.url.replace(/\/trpc$/, ''),
    async session(email) {
      const signedIn = await h.signIn(email);
      return { caller: signedIn.caller, cookie: `${SESSION_COOKIE}=${encodeURIComponent(signedIn.cookie)}` };
    },
    async dispose() {
      await http.stop();
      await h.dispose();
    },
  };
}
