import { useSyncExternalStore } from 'react';

/** The app's screens, from the URL: `/`, `/c/<conversationId>`, `/settings`, `/board[/<boardId>]`. */
export type Route =
  | { readonly screen: 'inbox' }
  | { readonly screen: 'conversation'; readonly conversationId: string }
  | { readonly screen: 'settings' }
  | { readonly screen: 'board'; readonly boardId: string | null };

export function parseRoute(pathname: string): Route {
  const match = /^\/c\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1]) return { screen: 'conversation', conversationId: decodeURIComponent(match[1]) };
  if (pathname === '/settings') return { screen: 'settings' };
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

/** Moves to a screen without reloading (the service worker serves the shell for any path anyway). */
export function navigate(route: Route): void {
  const href = hrefOf(route);
  if (href !== window.location.pathname) window.history.pushState(null, '', href);
  for (const listener of listeners) listener();
}

export function useRoute(): Route {
  const pathname = useSyncExternalStore(
    subscribe,
    () => window.location.pathname,
    () => '/',
  );
  return parseRoute(pathname);
}
