/** The name of Parley's session cookie over plain http (development, tests). */
export const SESSION_COOKIE = 'parley_session';
/**
 * Its name over https (0018): browsers accept a `__Host-` cookie only with Secure, Path=/ and no
 * Domain, so neither a sibling subdomain nor a plain-http page can plant or overwrite it.
 */
export const SECURE_SESSION_COOKIE = '__Host-parley_session';

/** The session cookie's name: `__Host-` whenever the cookie is Secure. */
export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/**
 * The session cookie of a `Cookie` header. Over https only the `__Host-` cookie counts: a plain
 * one there could have been planted by another subdomain or over http.
 */
export function readSessionCookie(header: string | undefined, secure: boolean): string | undefined {
  return parseCookies(header).get(sessionCookieName(secure));
}

/**
 * Whether a request reached Parley over https: a public URL (`PARLEY_PUBLIC_URL`) with https makes
 * every request count as https, as a TLS-terminating proxy in front would.
 */
export function requestIsSecure(
  request: { readonly socket: object; readonly headers: Record<string, string | string[] | undefined> },
  publicUrl: string | undefined,
): boolean {
  return (
    (publicUrl?.toLowerCase().startsWith('https://') ?? false) ||
    'encrypted' in request.socket ||
    request.headers['x-forwarded-proto'] === 'https'
  );
}

/** The cookies of a `Cookie` request header, by name; malformed pairs are skipped. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of (header ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at < 1) continue;
    const name = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    try {
      // The first cookie of a name wins, as browsers send the most specific path first.
      if (!cookies.has(name)) cookies.set(name, decodeURIComponent(raw));
    } catch {
      // A malformed percent-escape is someone else's cookie, not ours to fail on.
    }
  }
  return cookies;
}

/** Where a cookie may go: always HttpOnly, SameSite=Strict and for the whole site. */
export interface CookieOptions {
  /** Seconds until the browser drops it; 0 deletes it now. */
  readonly maxAgeSeconds: number;
  /** Set on HTTPS, so the cookie never travels in clear text. */
  readonly secure: boolean;
}

/**
 * A `Set-Cookie` value. HttpOnly keeps scripts (and so XSS) away from the session; SameSite=Strict
 * keeps other sites' pages from making the browser send it, which is Parley's CSRF defence.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
