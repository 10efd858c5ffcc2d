import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/**
 * The headers every response carries (decision record 0018): a Content-Security-Policy with no
 * 'unsafe-inline' and no 'unsafe-eval', `nosniff`, no referrer, no framing, and HSTS when the
 * public URL is https. Pages with a policy of their own (the web chat page) set it after this.
 */
export interface SecurityHeaders {
  /** Sets the headers on `res`; call before any handler writes. */
  apply(req: IncomingMessage, res: ServerResponse): void;
  /** The PWA's policy, as sent. */
  readonly contentSecurityPolicy: string;
}

/** The `'sha256-…'` source of an inline script or style, hashed over its exact text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The inline `<script>` (without src) and `<style>` bodies of an HTML page, as CSP hashes. */
export function inlineHashes(html: string): { scripts: string[]; styles: string[] } {
  const scripts = [...html.matchAll(/<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi)]
    .map((m) => m[1]!)
    .filter((body) => body.length > 0);
  const styles = [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]!);
  return { scripts: [...new Set(scripts.map(cspHash))], styles: [...new Set(styles.map(cspHash))] };
}

/**
 * The PWA's policy. Astro's island loader is an inline script and its island rule an inline style:
 * they are allowed by hash, read from the built pages at start. React sets `style` props through
 * the CSSOM, which CSP does not govern, so no 'unsafe-inline' is needed for them.
 */
export function appPolicy(hashes: { scripts: readonly string[]; styles: readonly string[] }): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.scripts.join(' ')}`.trim(),
    `style-src 'self' ${hashes.styles.join(' ')}`.trim(),
    "img-src 'self' data: blob:",
    "font-src 'self'",
    // 'self' covers the same origin's ws:/wss: too (the board sockets).
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The hashes of every built HTML page in `webDir` (none when the PWA is not built). */
export function builtPageHashes(webDir: string | undefined): { scripts: string[]; styles: string[] } {
  const scripts = new Set<string>();
  const styles = new Set<string>();
  if (webDir && existsSync(webDir)) {
    for (const name of readdirSync(webDir)) {
      if (!name.endsWith('.html')) continue;
      const found = inlineHashes(readFileSync(join(webDir, name), 'utf8'));
      found.scripts.forEach((hash) => scripts.add(hash));
      found.styles.forEach((hash) => styles.add(hash));
    }
  }
  return { scripts: [...scripts], styles: [...styles] };
}

/** True when the public URL is https: cookies get `__Host-` and `Secure`, responses get HSTS. */
export function isHttpsUrl(url: string | undefined): boolean {
  return url?.toLowerCase().startsWith('https://') ?? false;
}

/**
 * The headers for every response. `publicUrl` is read per request: the channels learn it when the
 * server starts listening, after this is built.
 */
export function createSecurityHeaders(options: {
  readonly webDir?: string;
  readonly publicUrl: () => string | undefined;
}): SecurityHeaders {
  const contentSecurityPolicy = appPolicy(builtPageHashes(options.webDir));
  return {
    contentSecurityPolicy,
    apply(_req, res) {
      res.setHeader('Content-Security-Policy', contentSecurityPolicy);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      // For browsers without CSP frame-ancestors.
      res.setHeader('X-Frame-Options', 'DENY');
      if (isHttpsUrl(options.publicUrl())) {
        res.setHeader('Strict-Transport-Security', 'max-age=31536000');
      }
    },
  };
}

/** The methods that change something; tRPC sends mutations as POST. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The `/trpc` Origin check (0018): a state-changing request from a browser must come from
 * Parley's own origin, the public URL's or the `Host` the request was sent to. A request with no
 * `Origin` passes (command-line clients, tests, server-to-server), unless the browser's
 * `Sec-Fetch-Site` says it is cross-site; `Origin: null` (sandboxed frames, opaque redirects) never.
 */
export function originAllowed(req: IncomingMessage, publicUrl: string | undefined): boolean {
  if (SAFE_METHODS.has((req.method ?? 'GET').toUpperCase())) return true;
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] !== 'cross-site';
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  if (origin === 'null' || host === '') return false;
  if (publicUrl !== undefined && safeOrigin(publicUrl) === origin.toLowerCase()) return true;
  return host === req.headers.host?.toLowerCase();
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return undefined;
  }
}
