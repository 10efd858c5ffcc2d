// Prints one closing line for the whole run, `tests: N passed, N failed, N skipped`, from the
// JSON reports of Vitest and Playwright, so a reader (or CI) sees the total at a glance.
import { existsSync, readFileSync } from 'node:fs';

const [vitestFile, playwrightFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

if (vitestFile && existsSync(vitestFile)) {
  const report = JSON.parse(readFileSync(vitestFile, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  if (report.numTotalTests === 0 || !report.success) failed += report.numFailedTestSuites ?? 0;
} else {
  failed += 1; // the unit suite did not even report
}

if (playwrightFile && existsSync(playwrightFile)) {
  const { stats } = JSON.parse(readFileSync(playwrightFile, 'utf8'));
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
} else {
  failed += 1; // the browser suite did not run
}

console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
