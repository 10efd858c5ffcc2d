import { FAST_CHECK_SEED } from './fast-check-seed';

/** Vitest global setup: prints the property tests' seed once per run. */
export default function printSeed(): void {
  console.log(`fast-check seed ${FAST_CHECK_SEED} (replay a failure with FC_SEED=${FAST_CHECK_SEED})`);
}
