import { liveQuery } from 'dexie';
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
