import { spawn, type ChildProcess } from 'node:child_process';
import { expect, vi } from 'vitest';

/** What a CLI or server process printed, and how it ended. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run parley -- <args>` as its own process, on `dataDir`'s embedded database. */
export function cli(
  dataDir: string,
  args: readonly string[],
  options: { env?: Record<string, string>; uid?: number; gid?: number } = {},
): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', ...args], {
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PARLEY_PASSWORD: '', ...options.env },
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The real entry point (`npm start`) on the embedded database in `dataDir`, with `env` added. */
export async function startServer(
  dataDir: string,
  options: { env?: Record<string, string> } = {},
): Promise<{ child: ChildProcess; url: string; output(): string; stop(): Promise<number | null> }> {
  const child = spawn('node', ['--import', 'tsx', 'server/src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      PARLEY_SIMULATORS: 'off',
      PARLEY_PASSWORD: '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await vi.waitFor(() => expect(output).toMatch(/running at http:\/\/[^:]+:(\d+)/), {
    timeout: 60_000,
    interval: 100,
  });
  const port = /running at http:\/\/[^:]+:(\d+)/.exec(output)![1];
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
