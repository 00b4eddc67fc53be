import { useSyncExternalStore } from 'react';

/**
 * The screen named by the location's hash: '#/live' is 'live'; no hash (or '#/') is '' (the
 * desk). Links are plain `<a href="#/…">`, so the browser's back and forward buttons work.
 */
export function currentRoute(hash: string = window.location.hash): string {
  return hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
}

function subscribe(listener: () => void) {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

/** The current route, re-rendering when the hash changes. */
export function useRoute(): string {
  return useSyncExternalStore(subscribe, () => currentRoute());
}
