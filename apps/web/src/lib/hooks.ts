import { useEffect, useState, useSyncExternalStore } from 'react';
import { registerSW } from 'virtual:pwa-register';
import { fetchHealth, type Health } from './health';

function subscribeToConnectivity(onChange: () => void): () => void {
  window.addEventListener('online', onChange);
  window.addEventListener('offline', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    window.removeEventListener('offline', onChange);
  };
}

/** Whether the browser believes it is online; the prerendered HTML assumes it is. */
export function useOnline(): boolean {
  return useSyncExternalStore(
    subscribeToConnectivity,
    () => navigator.onLine,
    () => true,
  );
}

/** The server's health: `undefined` while asking, `null` when it could not be reached. */
export function useHealth(online: boolean): Health | null | undefined {
  const [health, setHealth] = useState<Health | null | undefined>(undefined);
  useEffect(() => {
    if (!online) {
      setHealth(null);
      return;
    }
    // Ask again each time the connection comes back; drop answers to older questions.
    const controller = new AbortController();
    setHealth(undefined);
    fetchHealth(controller.signal).then(setHealth, () => {
      if (!controller.signal.aborted) setHealth(null);
    });
    return () => controller.abort();
  }, [online]);
  return health;
}

/** Registers the service worker; once a new version waits, returns a function that switches to it. */
export function useServiceWorkerUpdate(): (() => Promise<void>) | undefined {
  const [update, setUpdate] = useState<() => Promise<void>>();
  useEffect(() => {
    // Registered here rather than at import so prerendering, which has no `navigator`, never runs it.
    const updateServiceWorker = registerSW({
      onNeedRefresh: () => setUpdate(() => activateWaitingVersion),
      // registerSW reloads by itself only if the page was controlled when it loaded, which misses an
      // update found during the very first visit; activateWaitingVersion reloads in every case.
      onNeedReload: () => {},
      onRegisterError: (error: unknown) =>
        console.error('Parley could not register its service worker', error),
    });
    async function activateWaitingVersion(): Promise<void> {
      navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload(), {
        once: true,
      });
      await updateServiceWorker();
    }
  }, []);
  return update;
}
