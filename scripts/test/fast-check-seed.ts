import fc from 'fast-check';

/**
 * Every property test runs from one fixed seed, so a failure replays exactly: the seed is printed
 * at the start of the run (`scripts/test/print-seed.ts`) and `FC_SEED=<n> npm test` runs it again.
 * A test that passes its own `seed` keeps it.
 */
export const FAST_CHECK_SEED = Number(process.env.FC_SEED ?? 20_261_207);

fc.configureGlobal({ seed: FAST_CHECK_SEED });
