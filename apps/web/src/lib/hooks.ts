import Dexie, { liveQuery, type ObservabilitySet } from 'dexie';
import { useEffect, useState, useSyncExternalStore } from 'react';

function subscribeToConnectivity(onChange: () => void): () => void {
  window.addEventListener('online', onChange);
  window.addEventListener('offline', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    window.removeEventListener('offline', onChange);
  };
}

/** Whether the browser believes it is online. */
export function useOnline(): boolean {
  return useSyncExternalStore(
    subscribeToConnectivity,
    () => navigator.onLine,
    () => true,
  );
}

/**
 * The result of a Dexie query, re-run whenever the tables it read change (in this tab or another).
 * `undefined` until the first answer.
 */
export function useLiveQuery<T>(query: () => Promise<T> | T, deps: readonly unknown[]): T | undefined {
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({
      next: setValue,
      error: (error: unknown) => console.error('Parley: a local query failed', error),
    });
    return () => subscription.unsubscribe();
  }, deps);
  return value;
}

/**
 * Like `useLiveQuery`, for a query that reads a whole table's worth of rows (the inbox list): it
 * re-runs when one of `tables` changes (in this tab or another), but never sooner after its last
 * run than three times that run took, nor than `minGapMs`. A burst of synced events then costs a
 * few re-reads rather than one per write, which would keep the main thread busy with the list.
 */
export function useThrottledTableQuery<T>(
  db: Dexie,
  tables: readonly string[],
  query: () => Promise<T>,
  deps: readonly unknown[],
  minGapMs = 150,
): T | undefined {
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    const prefixes = tables.map((table) => `idb://${db.name}/${table}/`);
    let stopped = false;
    let running = false;
    let dirty = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let notBefore = 0;
    const run = async (): Promise<void> => {
      if (stopped) return;
      if (running) {
        dirty = true;
        return;
      }
      const wait = notBefore - performance.now();
      if (wait > 0) {
        timer ??= setTimeout(() => {
          timer = undefined;
          void run();
        }, wait);
        return;
      }
      running = true;
      dirty = false;
      const started = performance.now();
      try {
        const result = await query();
        if (!stopped) setValue(() => result);
      } catch (error) {
        console.error('Parley: a local query failed', error);
      } finally {
        running = false;
        const took = performance.now() - started;
        notBefore = performance.now() + Math.max(minGapMs, 3 * took);
        if (dirty) void run();
      }
    };
    const onMutated = (parts: ObservabilitySet): void => {
      if (Object.keys(parts).some((part) => prefixes.some((prefix) => part.startsWith(prefix)))) void run();
    };
    Dexie.on('storagemutated', onMutated);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      Dexie.on.storagemutated.unsubscribe(onMutated);
    };
  }, [db, ...deps]);
  return value;
}

/** A value from an object with `subscribe(listener)`, re-read on each notification. */
export function useSubscribed<T>(source: { subscribe(listener: () => void): () => void }, read: () => T): T {
  return useSyncExternalStore((listener) => source.subscribe(listener), read, read);
}

/** The current time, ticking every `everyMs` (window countdowns). */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
