// Our npm registry mirror answers 404 for some of rollup's platform packages (android, darwin,
// musl, ...), so `npm install` leaves them out of package-lock.json and `npm ci` then refuses the
// lock as out of sync. This adds the missing optional entries with their os/cpu, which `npm ci`
// skips on other platforms. Run it after any `npm install` that rewrites the lock:
//   node scripts/lock-platform-packages.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const match = /^@rollup\/rollup-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z0-9]+))?$/.exec(name);
    const target =
      path === '' || path === 'node_modules/rollup' ? `node_modules/${name}` : `${path}/node_modules/${name}`;
    if (!match || packages[`node_modules/${name}`] || packages[target]) continue;
    const [, os, cpu, libc] = match;
    packages[target] = {
      version,
      cpu: [cpu],
      ...(meta.dev ? { dev: true } : {}),
      ...(libc === 'gnu' ? { libc: ['glibc'] } : libc === 'musl' ? { libc: ['musl'] } : {}),
      license: 'MIT',
      optional: true,
      os: [os],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform package entries`);
