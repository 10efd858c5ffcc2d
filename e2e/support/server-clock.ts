// Loaded into the e2e server with `--import` (playwright.config.ts): lets a test move the server's
// clock (Date.now) forward, so a reply window can close while a browser is offline. The offset is
// read from DATA_DIR/e2e-clock-offset-ms and acknowledged in e2e-clock-offset-ms.applied.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.DATA_DIR;
if (dir && process.env.PARLEY_E2E_CLOCK === '1') {
  const file = join(dir, 'e2e-clock-offset-ms');
  const realNow = Date.now.bind(Date);
  let offset = 0;
  Date.now = () => realNow() + offset;
  const poll = () => {
    let wanted = 0;
    try {
      wanted = Number(readFileSync(file, 'utf8')) || 0;
    } catch {
      wanted = 0;
    }
    if (wanted !== offset) {
      offset = wanted;
      writeFileSync(`${file}.applied`, String(offset));
    }
  };
  setInterval(poll, 50).unref();
}
