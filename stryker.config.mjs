// @ts-check
// Mutation testing of the core (`npm run test:mutation`, not part of `npm test`): the store, the
// webhook signature checks, the domain's platform policies and the PWA's outbox. Each run writes
// reports/mutation/mutation.html and .json; docs/MUTATION.md keeps the figures and the survivors.
// One area at a time: `npm run test:mutation -- --mutate 'server/src/channels/signature.ts'`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'server/src/store/sql-store.ts',
    'server/src/store/checkpoint.ts',
    'server/src/store/validation.ts',
    'server/src/channels/signature.ts',
    'packages/domain/src/platforms/*.ts',
    '!packages/domain/src/platforms/*.spec.ts',
    'apps/web/src/lib/outbox/*.ts',
    '!apps/web/src/lib/outbox/*.spec.ts',
  ],
  ignorePatterns: ['data', 'dist', 'reports', 'test-results', 'playwright-report', 'e2e'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  concurrency: 2,
  timeoutMS: 60_000,
  thresholds: { high: 95, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
export default config;
