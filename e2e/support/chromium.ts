import type { LaunchOptions } from '@playwright/test';

/**
 * Debian's Chromium (scripts/ensure-chromium.sh), never a browser downloaded by Playwright, with the
 * flags every browser run here uses: the browser tests (playwright.config.ts) and `npm run screenshots`.
 */
export const CHROMIUM_LAUNCH: LaunchOptions = {
  executablePath: process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
