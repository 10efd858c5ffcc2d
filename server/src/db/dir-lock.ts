import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK = 'parley.lock';

/**
 * Takes DATA_DIR for this process, atomically: PGlite is one process's database and a second
 * process on the same files would corrupt them. Returns the release function.
 *
 * SF: the lock file appears with its content in one step (`link` of a written file, which fails
 * if the lock exists), so nobody reads an empty lock. A stale lock (its process is gone) is
 * replaced only by the one process that claims its takeover (`parley.lock.<pid>.takeover`,
 * created exclusively), and only while the lock still names that dead process.
 */
export function lockDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, LOCK);
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createWithContent(lockFile, mine)) return releaser(lockFile, mine);
    const holder = readHolder(lockFile);
    if (holder === undefined) continue; // released in between: try again
    if (holder !== process.pid && isAlive(holder)) throw inUse(dataDir, holder);
    if (takeOver(lockFile, holder, mine)) return releaser(lockFile, mine);
    pause(5); // another process is taking the stale lock over: see who won
  }
  throw new Error(`could not take the lock on ${dataDir}: it keeps changing hands`);
}

/** The live process other than this one that holds `dataDir`'s lock, if any (the CLI then asks it). */
export function liveHolder(dataDir: string): number | undefined {
  const holder = readHolder(join(dataDir, LOCK));
  return holder !== undefined && holder !== process.pid && isAlive(holder) ? holder : undefined;
}

function inUse(dataDir: string, holder: number): Error {
  return new Error(
    `${dataDir} is in use by process ${holder}: the embedded database allows one Parley process; ` +
      'stop it, use another DATA_DIR, or set DATABASE_URL to share a PostgreSQL server',
  );
}

/** Replaces the lock of dead process `stale` by ours; false when another process does it. */
function takeOver(lockFile: string, stale: number, mine: string): boolean {
  const claim = `${lockFile}.${stale}.takeover`;
  if (!createWithContent(claim, mine)) {
    const taker = readHolder(claim);
    // A taker that died mid-takeover leaves its claim behind: clear it for the next attempt.
    if (taker !== undefined && !isAlive(taker)) rmSync(claim, { force: true });
    return false;
  }
  try {
    // Re-verify under the claim: the lock may have been released and taken afresh meanwhile.
    if (!Object.is(readHolder(lockFile), stale)) return false;
    const temporary = `${lockFile}.${mine}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temporary, mine);
    renameSync(temporary, lockFile);
    return readHolder(lockFile) === process.pid;
  } finally {
    rmSync(claim, { force: true });
  }
}

/** Creates `path` holding `content` in one step; false if it exists. */
function createWithContent(path: string, content: string): boolean {
  const temporary = `${path}.${content}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, content);
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function readHolder(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Releases the lock only while it is still ours. */
function releaser(lockFile: string, mine: string): () => void {
  return () => {
    if (readHolder(lockFile) === Number(mine)) rmSync(lockFile, { force: true });
  };
}

/** Whether process `pid` is running (on this machine). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
