/** What one pass of a worker did: whether to go again at once, or how long it may sleep. */
export type PassResult = { readonly again: true } | { readonly again: false; readonly sleepMs: number };

/**
 * Runs `pass` until stopped: again at once while it finds work, otherwise after its sleep or as
 * soon as `wake()` is called (a new delivery, a reply queued). One pass at a time.
 */
export class WorkerLoop {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeSleeper: (() => void) | undefined;
  private woken = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly pass: () => Promise<PassResult>,
    private readonly onError: (error: unknown) => void,
    private readonly errorBackoffMs = 1_000,
  ) {}

  /** Starts the loop (again, after `stop`); calling it while it runs does nothing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.done = this.run().finally(() => {
      this.running = false;
    });
  }

  /** Cuts the current sleep short. */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  /** Stops after the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let sleepMs = 0;
      try {
        const result = await this.pass();
        if (!result.again) sleepMs = result.sleepMs;
      } catch (error) {
        this.onError(error);
        sleepMs = this.errorBackoffMs;
      }
      if (sleepMs > 0 && !this.woken && !this.stopped) await this.sleep(sleepMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(this.timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      this.wakeSleeper = finish;
      this.timer = setTimeout(finish, ms);
    });
  }
}
