import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@playwright/test';

/** Moves the e2e server's clock by `offsetMs` (see server-clock.ts) and waits until it took effect. */
export async function setServerClockOffset(dataDir: string, offsetMs: number): Promise<void> {
  const file = join(dataDir, 'e2e-clock-offset-ms');
  writeFileSync(file, String(offsetMs));
  await expect
    .poll(() => {
      try {
        return Number(readFileSync(`${file}.applied`, 'utf8'));
      } catch {
        return 0;
      }
    })
    .toBe(offsetMs);
}
