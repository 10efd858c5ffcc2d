// Prints the failed tests by name, then one closing line for the whole run,
// `tests: N passed, N failed, N skipped`, from the JSON reports of Vitest and Playwright, so a
// reader (or CI, which often shows only the tail of a log) sees what broke and the total at a glance.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [vitestFile, playwrightFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const firstLine = (text) =>
  String(text ?? '')
    .split('\n')
    .find((line) => line.trim() !== '') ?? '';

if (vitestFile && existsSync(vitestFile)) {
  const report = JSON.parse(readFileSync(vitestFile, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  if (report.numTotalTests === 0) failed += 1;
  for (const file of report.testResults ?? []) {
    const where = relative(process.cwd(), file.name);
    const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedTests) {
      failures.push(`${where} › ${test.fullName}\n      ${firstLine(test.failureMessages?.[0])}`);
    }
    if (failedTests.length === 0 && file.status === 'failed') {
      failed += 1; // a file that failed to load or in a hook: no test of it counted as failed
      failures.push(`${where} (the file failed to run)\n      ${firstLine(file.message)}`);
    }
  }
} else {
  failed += 1; // the unit suite did not even report
  failures.push('vitest: no report');
}

if (playwrightFile && existsSync(playwrightFile)) {
  const report = JSON.parse(readFileSync(playwrightFile, 'utf8'));
  const { stats } = report;
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
  const visit = (suite) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        if (test.status !== 'unexpected') continue;
        const error = test.results?.at(-1)?.error?.message;
        failures.push(`${spec.file}:${spec.line} › ${spec.title}\n      ${firstLine(error)}`);
      }
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  for (const suite of report.suites ?? []) visit(suite);
} else {
  failed += 1; // the browser suite did not run
  failures.push('playwright: no report');
}

if (failures.length > 0) {
  console.log('\nfailed:');
  // Reporters colour their messages; the summary is read in plain logs.
  const colours = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
  for (const failure of failures) console.log(`  ✗ ${failure.replace(colours, '')}`);
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
