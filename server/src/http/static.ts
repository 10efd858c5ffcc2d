import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

/** Where `npm run build` put the PWA: `PARLEY_WEB_DIST` when set (astro.config.mjs reads it too). */
export const WEB_DIST =
  process.env.PARLEY_WEB_DIST || new URL('../../../apps/web/dist/', import.meta.url).pathname;

/**
 * Serves the built PWA. The service worker and the manifest are never cached by HTTP, so an update
 * reaches clients on their next check; hashed assets are cached for a year.
 */
export function staticHandler(
  dir = WEB_DIST,
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  if (!existsSync(dir)) {
    // The API still works (tests, API-only use); pages say how to build the app.
    const message = `the PWA is not built (${dir} is missing): run \`npm run build\` first, or just \`npm start\``;
    return (_req, res) => {
      res.statusCode = 503;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(message);
    };
  }
  return sirv(dir, {
    single: true,
    etag: true,
    gzip: false,
    setHeaders(res, pathname) {
      if (
        pathname === '/sw.js' ||
        pathname.startsWith('/workbox-') ||
        pathname.endsWith('.webmanifest') ||
        pathname.endsWith('.html') ||
        pathname === '/'
      ) {
        res.setHeader('Cache-Control', 'no-cache');
      } else if (pathname.startsWith('/_astro/')) {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      }
      if (pathname === '/sw.js') res.setHeader('Service-Worker-Allowed', '/');
    },
  });
}
