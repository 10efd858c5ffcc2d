/** The part of the Web Locks API the flusher uses, so tests can run it without a browser. */
export interface Locks {
  /**
   * Runs `task` holding the named lock. With `ifAvailable`, runs it with `null` at once when another
   * holder has the lock; otherwise waits for it.
   */
  request<T>(
    name: string,
    options: { ifAvailable?: boolean },
    task: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** The browser's Web Locks: shared by every tab of the origin and released when a tab closes. */
export function browserLocks(): Locks {
  const locks = navigator.locks;
  return {
    request: (name, options, task) =>
      locks.request(name, options, task) as Promise<Awaited<ReturnType<typeof task>>>,
  };
}

/** Locks within one JavaScript realm: tests stand two "tabs" up against one of these. */
export function memoryLocks(): Locks {
  const held = new Map<string, Promise<void>>();
  return {
    async request(name, options, task) {
      if (options.ifAvailable && held.has(name)) return task(null);
      while (held.has(name)) await held.get(name);
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      held.set(name, done);
      try {
        return await task({ name });
      } finally {
        held.delete(name);
        release();
      }
    },
  };
}
