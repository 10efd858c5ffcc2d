/**
 * Requests between `bench:board` and its child processes (the board server under test and the
 * simulated clients): each method takes one JSON value and answers one; a child may also send
 * progress lines, which the parent prints as they come.
 */
import { fork, type ChildProcess } from 'node:child_process';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Methods = Record<string, (params: any) => Promise<unknown>>;

type Message =
  | { readonly id: number; readonly method: string; readonly params: unknown }
  | { readonly id: number; readonly result?: unknown; readonly error?: string }
  | { readonly progress: string };

/** In a child: answers the parent's requests with `methods`, one at a time in arrival order. */
export function serveParent(methods: Methods): void {
  // The parent letting go ends the child (normally, so that a --cpu-prof profile is written).
  process.on('disconnect', () => process.exit(0));
  let queue = Promise.resolve();
  process.on('message', (message: Message) => {
    if (!('method' in message)) return;
    queue = queue.then(async () => {
      const { id, method, params } = message;
      try {
        const handler = methods[method];
        if (!handler) throw new Error(`unknown method ${method}`);
        process.send?.({ id, result: (await handler(params)) ?? null });
      } catch (error) {
        process.send?.({
          id,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    });
  });
}

/** In a child: a line for the parent to print while a request runs. */
export function progress(line: string): void {
  process.send?.({ progress: line });
}

/** The parent's end of a child: typed calls, progress printed to stderr with a prefix. */
export interface Child<M extends Methods> {
  call<K extends keyof M & string>(method: K, params: Parameters<M[K]>[0]): ReturnType<M[K]>;
  /** Lets the child go (it exits), killing it if it has not exited 10 s later. */
  stop(): Promise<void>;
}

/** Starts `script` (a .ts file next to this one) under tsx, its stdout on our stderr. */
export function startChild<M extends Methods>(
  script: string,
  label: string,
  execArgv: string[] = [],
): Child<M> {
  const profile = process.env.BENCH_PROFILE_DIR;
  const child: ChildProcess = fork(new URL(script, import.meta.url).pathname, {
    execArgv: [
      '--import',
      'tsx',
      ...execArgv,
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message: Message) => {
    if ('progress' in message) {
      process.stderr.write(`  [${label}] ${message.progress}\n`);
      return;
    }
    if ('method' in message) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) pending?.reject(new Error(`${label}: ${message.error}`));
    else pending?.resolve(message.result);
  });
  child.once('exit', (code, signal) => {
    for (const pending of waiting.values()) {
      pending.reject(new Error(`${label} exited (${signal ?? code}) during a request`));
    }
    waiting.clear();
  });
  return {
    call(method, params) {
      const id = ++next;
      const answer = new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
      child.send({ id, method, params });
      return answer as ReturnType<M[typeof method]>;
    },
    async stop() {
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
