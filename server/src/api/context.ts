import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuth, type Auth, type AuthOptions } from '../auth/service';
import type { Session } from '../auth/sessions';
import { readSessionCookie, requestIsSecure } from '../auth/cookies';
import { clientAddress, TRUST_NO_PROXY, type TrustProxy } from '../http/client-address';
import type { Services } from '../services';

/** What a procedure knows about the HTTP request behind it. */
export interface RequestInfo {
  /** The client's IP address, for sign-in rate limits. */
  readonly address: string;
  /** True over HTTPS (or an https public URL), so the cookie is `__Host-` and Secure. */
  readonly secure: boolean;
  /** The session cookie's value, if the request carried one. */
  readonly sessionCookie: string | undefined;
  /** Adds a `Set-Cookie` header to the response. */
  setCookie(header: string): void;
}

/** What every procedure gets: the process's services, sign-in, the request, and its session. */
export interface Context {
  readonly services: Services;
  readonly auth: Auth;
  readonly request: RequestInfo;
  /** The request's live session or null; looked up at most once, and only when a procedure asks. */
  resolveSession(): Promise<Session | null>;
}

/** The API's long-lived parts for one process: sign-in (with its rate limits) and context factories. */
export interface Api {
  readonly auth: Auth;
  /** A context for a request described directly: `createCaller` in tests, or another transport. */
  readonly createContext: (request: RequestInfo) => Context;
  /** The tRPC standalone adapter's `createContext`. */
  readonly createHttpContext: (options: { req: IncomingMessage; res: ServerResponse }) => Context;
}

/** Creates the API's parts over the process's services. */
export function createApi(
  services: Services,
  options: { readonly auth?: AuthOptions; readonly trustProxy?: TrustProxy } = {},
): Api {
  const auth = createAuth(services.db.sql, options.auth);
  const trustProxy = options.trustProxy ?? services.config.trustProxy ?? TRUST_NO_PROXY;
  const createContext = (request: RequestInfo): Context => {
    let session: Promise<Session | null> | undefined;
    return {
      services,
      auth,
      request,
      resolveSession: () => (session ??= auth.resolve(request.sessionCookie)),
    };
  };
  return {
    auth,
    createContext,
    createHttpContext: ({ req, res }) => {
      const secure = requestIsSecure(req, services.channels.publicUrl());
      return createContext({
        address: clientAddress(req, trustProxy),
        secure,
        sessionCookie: readSessionCookie(req.headers.cookie, secure),
        setCookie: (header) => appendSetCookie(res, header),
      });
    },
  };
}

function appendSetCookie(res: ServerResponse, header: string): void {
  const existing = res.getHeader('set-cookie');
  const all = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...all, header]);
}
