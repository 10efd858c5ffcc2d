import { defineConfig } from 'vitest/config';

// Property tests: one fixed seed for the run, printed once (scripts/test/fast-check-seed.ts).
const seeded = ['scripts/test/fast-check-seed.ts'];

export default defineConfig({
  test: {
    globalSetup: ['scripts/test/print-seed.ts'],
    projects: [
      {
        test: {
          name: 'domain',
          include: ['packages/*/src/**/*.spec.ts', 'packages/*/test/**/*.spec.ts'],
          environment: 'node',
          setupFiles: seeded,
        },
      },
      {
        test: {
          name: 'server',
          include: ['server/src/**/*.spec.ts', 'server/test/**/*.spec.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          setupFiles: seeded,
        },
      },
      {
        test: {
          name: 'web',
          include: ['apps/web/src/**/*.spec.{ts,tsx}'],
          environment: 'jsdom',
          // Some web specs lint or render the whole PWA: seconds alone, more on a loaded CI machine.
          testTimeout: 30_000,
          setupFiles: [...seeded, 'apps/web/src/test/setup.ts'],
        },
      },
    ],
  },
});
