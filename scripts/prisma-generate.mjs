// Prisma's CLI insists on a schema-engine binary path even for `generate`, which never runs it;
// the binary cannot be downloaded here, so point the variable at a path that exists.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const prismaBin = new URL('../node_modules/.bin/prisma', import.meta.url).pathname;
if (!existsSync(prismaBin)) process.exit(0);
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const result = spawnSync(prismaBin, ['generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
