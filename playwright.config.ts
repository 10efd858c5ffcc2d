import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_LAUNCH } from './e2e/support/chromium';

// PARLEY_E2E_PORT lets two checkouts run their browser tests side by side; tests that start a
// server of their own take the ports just below it.
const PORT = Number(process.env.PARLEY_E2E_PORT ?? 3199);
process.env.PARLEY_E2E_PORT = String(PORT);
const baseURL = `http://127.0.0.1:${PORT}`;

// Every run starts the server on an empty data directory. Playwright loads this file again in each
// worker; the variable, inherited from the runner process, keeps them all on the one directory.
if (!process.env.PARLEY_E2E_DATA_DIR) {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  process.env.PARLEY_E2E_DATA_DIR = dataDir;
  // On exit rather than in globalTeardown, which runs before Playwright stops the server.
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
}

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  // The restart test starts a server of its own; the others finish well within this.
  timeout: 120_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: CHROMIUM_LAUNCH,
      },
    },
  ],
  webServer: {
    // The real server, serving the PWA built by `npm run build` from apps/web/dist. The clock shim
    // (e2e/support/server-clock.ts) lets the window test move the server's time; nothing else changes.
    command: 'node --import tsx --import ./e2e/support/server-clock.ts server/src/main.ts',
    url: `${baseURL}/trpc/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      // The browser tests run Parley as a new user does, on the embedded database, even when the
      // store suites also run against DATABASE_URL's server.
      DATABASE_URL: '',
      PORT: String(PORT),
      DATA_DIR: process.env.PARLEY_E2E_DATA_DIR,
      LOG_LEVEL: 'warn',
      PARLEY_E2E_CLOCK: '1',
      // No customer messages from the simulator: the tests count what they send themselves.
      PARLEY_CUSTOMER_SIMULATOR_MS: '0',
    },
  },
});
