import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from '@playwright/test';

/** A Parley server of a test's own (the restart test stops and starts it), on the real entry point. */
export class OwnServer {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // A server left on the port (by a killed earlier run) would answer in this one's place.
    if (await this.answers()) throw new Error(`port ${this.port} is taken by another server`);
    this.child = spawn('node', ['--import', 'tsx', 'server/src/main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: '', // the embedded default, as in playwright.config.ts
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATA_DIR: this.dataDir,
        LOG_LEVEL: 'warn',
        PARLEY_CUSTOMER_SIMULATOR_MS: '0',
      },
      stdio: 'ignore',
    });
    const child = this.child;
    await expect
      .poll(
        async () => {
          if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
          return this.answers();
        },
        { timeout: 60_000, intervals: [200] },
      )
      .toBe(true);
  }

  private async answers(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/trpc/health`)).ok;
    } catch {
      return false;
    }
  }

  /** Stops it as an operator would (SIGTERM) and waits for the process to end. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
