// @ts-check
// Builds the Parley PWA (apps/web) into static files in apps/web/dist, which the server serves.
import { fileURLToPath } from 'node:url';
import react from '@astrojs/react';
import AstroPWA from '@vite-pwa/astro';
import { defineConfig } from 'astro/config';

const web = (/** @type {string} */ path) => fileURLToPath(new URL(`./apps/web/${path}`, import.meta.url));

/** Brand colour, shared with the icons (apps/web/scripts/generate-icons.mjs) and index.astro. */
const THEME_COLOR = '#4338ca';

/** Where the build goes: PARLEY_WEB_DIST, or apps/web/dist. */
const OUT_DIR = process.env.PARLEY_WEB_DIST || web('dist');

export default defineConfig({
  // The config lives at the repo root so `npm run build` works from there; the app lives in apps/web.
  // Astro resolves srcDir, publicDir and outDir against the working directory, so each is spelled out.
  root: web(''),
  srcDir: web('src'),
  publicDir: web('public'),
  // PARLEY_WEB_DIST builds elsewhere (the server serves the same variable), so two builds can coexist.
  outDir: OUT_DIR,
  output: 'static',
  // CSS as files, never inline `<style>`: the Content-Security-Policy (server/src/http/security-headers.ts)
  // has no 'unsafe-inline'. Astro's island loader stays an inline script; the server allows it by hash.
  build: { inlineStylesheets: 'never' },
  vite: {
    // Astro bundles the renderers it finds in the app's package.json for prerendering; our dependencies
    // live in the root package.json instead, so name the React renderer (it imports a virtual module).
    ssr: { noExternal: ['@astrojs/react'] },
  },
  integrations: [
    react(),
    AstroPWA({
      strategies: 'generateSW',
      // Ask before switching versions: a reload mid-reply would lose what the agent is typing.
      registerType: 'prompt',
      // App.tsx registers the worker itself through `virtual:pwa-register`.
      injectRegister: false,
      manifest: {
        id: '/',
        name: 'Parley',
        short_name: 'Parley',
        description: 'Offline-first conversation inbox: answer your customers, even without a connection.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: THEME_COLOR,
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The whole shell, so the app starts with no network at all (the plugin adds the manifest itself).
        globPatterns: ['**/*.{html,js,css,png,svg,ico,woff2}'],
        // Spelled out: with an outDir outside apps/web the plugin looked in Astro's temporary .astro
        // folder, precached nothing but the manifest, and the PWA could not start offline.
        globDirectory: OUT_DIR,
        swDest: `${OUT_DIR}/sw.js`,
        navigateFallback: '/',
        // Navigations to the API must reach the server, never the cached shell.
        navigateFallbackDenylist: [/^\/(?:trpc|api)(?:\/|$)/],
        // With registerType 'prompt' a new worker waits; on first install, take the open page at once.
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        // Web Push: show a notification and open its conversation when tapped (apps/web/public/push-sw.js).
        // generateSW keeps Workbox's whole setup; the push handlers are a small plain script beside it.
        importScripts: ['/push-sw.js'],
        // No route matches /trpc or /api, so the worker leaves API calls (and the live SSE stream, which a
        // worker would otherwise have to keep alive) to the browser: never cached, never proxied.
        runtimeCaching: [
          {
            // Avatars and attachments never change under a given URL, so the cached copy is as good as new.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && /^\/(?:avatars|media)\//.test(url.pathname),
            handler: 'CacheFirst',
            options: {
              cacheName: 'parley-media',
              expiration: { maxEntries: 500, maxAgeSeconds: 30 * 24 * 60 * 60, purgeOnQuotaError: true },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
    }),
  ],
});
