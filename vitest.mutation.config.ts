import { defineConfig } from 'vitest/config';

// The suites that guard the mutated core (stryker.config.mjs): StrykerJS runs only these, so a
// mutant is judged by the tests written for its file, not by every integration suite that imports
// it. PARLEY_MUTATE picks one area (a static mutant re-runs every suite of the run, so a run over
// one area with its own suites is hours shorter than one over everything).
const areas = {
  policies: { files: ['packages/domain/src/platforms/*.spec.ts'], web: false },
  signatures: {
    files: ['server/test/security/signatures.spec.ts', 'server/test/channels.units.spec.ts'],
    web: false,
  },
  store: {
    files: [
      'server/test/memory-store.spec.ts',
      'server/test/sql-store.spec.ts',
      'server/test/security/store.spec.ts',
      'server/src/store/checkpoint.spec.ts',
    ],
    web: false,
  },
  outbox: { files: [], web: true },
} as const;
type Area = keyof typeof areas;
const chosen = (process.env.PARLEY_MUTATE?.split(',') ?? Object.keys(areas)) as Area[];
const seeded = ['scripts/test/fast-check-seed.ts'];

const core = chosen.flatMap((area) => areas[area].files);

export default defineConfig({
  test: {
    passWithNoTests: false,
    projects: [
      ...(core.length > 0
        ? [
            {
              test: {
                name: 'core',
                include: core,
                environment: 'node' as const,
                testTimeout: 60_000,
                hookTimeout: 60_000,
                setupFiles: seeded,
              },
            },
          ]
        : []),
      ...(chosen.some((area) => areas[area].web)
        ? [
            {
              test: {
                name: 'outbox',
                include: ['apps/web/src/lib/outbox/*.spec.ts'],
                environment: 'jsdom' as const,
                setupFiles: [...seeded, 'apps/web/src/test/setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
