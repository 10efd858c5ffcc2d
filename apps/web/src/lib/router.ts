import { useSyncExternalStore } from 'react';

/**
 * The app's screens, from the URL: `/`, `/c/<conversationId>`, `/settings`, `/board[/<boardId>]`,
 * `/reports` and `/reports/audit`.
 */
export type Route =
  | { readonly screen: 'inbox' }
  | { readonly screen: 'conversation'; readonly conversationId: string }
  | { readonly screen: 'settings' }
  | { readonly screen: 'board'; readonly boardId: string | null }
  | { readonly screen: 'reports'; readonly view: 'metrics' | 'audit' };

export function parseRoute(pathname: string): Route {
  const match = /^\/c\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1]) return { screen: 'conversation', conversationId: decodeURIComponent(match[1]) };
  if (pathname === '/settings') return { screen: 'settings' };
  if (/^\/reports\/?$/.test(pathname)) return { screen: 'reports', view: 'metrics' };
  if (/^\/reports\/audit\/?$/.test(pathname)) return { screen: 'reports', view: 'audit' };
  const board = /^\/board(?:\/([^/]+))?\/?$/.exec(pathname);
  if (board) return { screen: 'board', boardId: board[1] ? decodeURIComponent(board[1]) : null };
  return { screen: 'inbox' };
}

export function hrefOf(route: Route): string {
  switch (route.screen) {
    case 'inbox':
      return '/';
    case 'conversation':
      return `/c/${encodeURIComponent(route.conversationId)}`;
    case 'settings':
      return '/settings';
    case 'board':
      return route.boardId === null ? '/board' : `/board/${encodeURIComponent(route.boardId)}`;
    case 'reports':
      return route.view === 'audit' ? '/reports/audit' : '/reports';
    default:
      return route satisfies never;
  }
}

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

/** How many of the app's own history entries lie behind this one (0 when the app was opened here). */
export function historyDepth(): number {
  const state = window.history.state as { depth?: unknown } | null;
  return typeof state?.depth === 'number' ? state.depth : 0;
}

function notify(): void {
  for (const listener of listeners) listener();
}

/**
 * Moves to a screen without reloading (the service worker serves the shell for any path anyway).
 * Each move is a history entry, so the browser's back, Android's back button and swipe-back walk
 * the screens; `replace` moves without one (after signing in or out).
 */
export function navigate(route: Route, options: { readonly replace?: boolean } = {}): void {
  const href = hrefOf(route);
  if (options.replace) window.history.replaceState({ depth: historyDepth() }, '', href);
  else if (href !== window.location.pathname)
    window.history.pushState({ depth: historyDepth() + 1 }, '', href);
  notify();
}

/**
 * Back to the screen the agent came from, as the browser's back does (so the app's back button,
 * Android's and a swipe agree), or to `fallback` when the app was opened on this screen.
 */
export function goBack(fallback: Route): void {
  if (historyDepth() > 0) window.history.back();
  else navigate(fallback, { replace: true });
}

export function useRoute(): Route {
  const pathname = useSyncExternalStore(
    subscribe,
    () => window.location.pathname,
    () => '/',
  );
  return parseRoute(pathname);
}
