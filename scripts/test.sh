#!/usr/bin/env bash
# `npm test`: lint, typecheck, unit and integration tests, then the browser tests.
# With DATABASE_URL set, the store suites also run against that PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

step 'lint'
npm run --silent lint

step 'typecheck'
npm run --silent typecheck

step "unit and integration tests (PGlite${DATABASE_URL:+ and PostgreSQL})"
vitest_status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json" || vitest_status=$?

step 'browser tests (Playwright, Debian Chromium)'
e2e_status=0
PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" npm run --silent test:e2e -- --reporter=list,json || e2e_status=$?

node scripts/test-summary.mjs "$results/vitest.json" "$results/playwright.json"
[ "$vitest_status" -eq 0 ] && [ "$e2e_status" -eq 0 ]
