import { defineConfig } from 'vitest/config';

// The suites that guard the mutated core (stryker.config.mjs): StrykerJS runs only these, so a
// mutant is judged by the tests written for its file, not by every integration suite that imports it.
const seeded = ['scripts/test/fast-check-seed.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'core',
          include: [
            'packages/domain/src/platforms/*.spec.ts',
            'server/test/memory-store.spec.ts',
            'server/test/sql-store.spec.ts',
            'server/test/security/store.spec.ts',
            'server/test/security/signatures.spec.ts',
            'server/test/channels.units.spec.ts',
          ],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          setupFiles: seeded,
        },
      },
      {
        test: {
          name: 'outbox',
          include: ['apps/web/src/lib/outbox/*.spec.ts'],
          environment: 'jsdom',
          setupFiles: [...seeded, 'apps/web/src/test/setup.ts'],
        },
      },
    ],
  },
});
