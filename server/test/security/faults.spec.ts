import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The pid of a process that has exited: what a crashed Parley leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('[SF] the DATA_DIR lock', () => {
  let work: string;
  let childScript: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'parley-lock-'));
    // The lock module as plain JavaScript, so each contender is a real, quickly started process.
    const source = readFileSync(join(__dirname, '../../src/db/dir-lock.ts'), 'utf8');
    writeFileSync(join(work, 'dir-lock.mjs'), transformSync(source, { loader: 'ts', format: 'esm' }).code);
    childScript = join(work, 'contender.mjs');
    writeFileSync(
      childScript,
      `import { createInterface } from 'node:readline';
       import { lockDirectory } from './dir-lock.mjs';
       const lines = createInterface({ input: process.stdin });
       let step = 0;
       lines.on('line', () => {
         if (step++ > 0) process.exit(0); // told to go away: die holding the lock, like a crash
         let outcome;
         try { lockDirectory(process.argv[2]); outcome = 'won'; } catch (e) { outcome = 'lost ' + e.message; }
         console.log(outcome);
       });
       console.log('ready');`,
    );
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function race(dataDir: string, contenders: number): Promise<{ pid: number; outcome: string }[]> {
    const children = Array.from({ length: contenders }, () =>
      spawn(process.execPath, [childScript, dataDir], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const lines = children.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    const next = async (i: number) => String((await lines[i]!.next()).value);
    for (const i of children.keys()) expect(await next(i)).toBe('ready');
    for (const child of children) child.stdin.write('go\n'); // all at once, over the stale lock
    const outcomes = await Promise.all(
      children.map(async (child, i) => ({ pid: child.pid!, outcome: await next(i) })),
    );
    await Promise.all(
      children.map(async (child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin.write('exit\n');
        await exited;
      }),
    );
    return outcomes;
  }

  it('[SF] processes racing for a stale lock: exactly one opens DATA_DIR, every time', async () => {
    const dataDir = join(work, 'data');
    for (let round = 1; round <= 8; round++) {
      // The previous round's winner died holding the lock; the first round starts from a crash too.
      if (round === 1) {
        mkdirSync(dataDir, { recursive: true });
        writeFileSync(join(dataDir, 'parley.lock'), String(await deadPid()));
      }
      const outcomes = await race(dataDir, 4);
      const winners = outcomes.filter((o) => o.outcome === 'won');
      expect(winners, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
      for (const loser of outcomes.filter((o) => o.outcome !== 'won')) {
        expect(loser.outcome).toContain(`in use by process ${winners[0]!.pid}`);
      }
      expect(readFileSync(join(dataDir, 'parley.lock'), 'utf8')).toBe(String(winners[0]!.pid));
    }
  });
});
