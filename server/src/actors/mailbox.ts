/** Runs posted work one item at a time, in order: the only lock a grain needs. */
export class Mailbox {
  private readonly queue: (() => Promise<void>)[] = [];
  private running = false;

  /** `onIdle` runs each time the last queued item finishes. */
  constructor(private readonly onIdle: () => void = () => {}) {}

  /** Items queued or running; 0 means the mailbox's owner is idle. */
  get size(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Queues work and settles as it does, after everything posted before it has finished. */
  post<T>(work: () => Promise<T>): Promise<T> {
    let start = (): void => {};
    const turn = new Promise<void>((resolve) => {
      start = resolve;
    }).then(work);
    this.queue.push(() => {
      start();
      return turn.then(
        () => {},
        () => {},
      );
    });
    if (!this.running) void this.drain();
    return turn;
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) await next();
    this.running = false;
    this.onIdle();
  }
}
