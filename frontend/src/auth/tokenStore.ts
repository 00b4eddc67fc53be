/**
 * The session token lives in localStorage so a reload keeps the agent signed in and every tab
 * shares one session; why not a cookie or sessionStorage is in docs/operations.md ("Where the SPA
 * keeps the session token"). The store is
 * observable so React (useSyncExternalStore) and the urql client read the same value; other tabs
 * signing in or out are picked up through the `storage` event.
 */
export interface TokenStore {
  get(): string | null;
  set(token: string): void;
  /** Forgets the token; a reason says why the server ended the session, for the sign-in screen. */
  clear(reason?: string): void;
  /** Why the server ended the last session, if it said; cleared by the next sign-in. */
  reason(): string | null;
  subscribe(listener: () => void): () => void;
}

export const TOKEN_KEY = 'agentdesk.token';

export function createTokenStore(storage: Storage, key = TOKEN_KEY): TokenStore {
  const listeners = new Set<() => void>();
  let lastReason: string | null = null;
  const notify = () => listeners.forEach((listener) => listener());

  const read = (): string | null => {
    try {
      return storage.getItem(key) || null;
    } catch {
      return null; // storage can be unavailable (privacy mode); act signed out
    }
  };

  return {
    get: read,
    set(token) {
      lastReason = null;
      if (token === read()) return;
      storage.setItem(key, token);
      notify();
    },
    clear(reason) {
      if (read() === null) return;
      lastReason = reason ?? null;
      storage.removeItem(key);
      notify();
    },
    reason: () => lastReason,
    subscribe(listener) {
      listeners.add(listener);
      const onStorage = (event: StorageEvent) => {
        if (event.key === key || event.key === null) listener();
      };
      window.addEventListener('storage', onStorage);
      return () => {
        listeners.delete(listener);
        window.removeEventListener('storage', onStorage);
      };
    },
  };
}

export const tokenStore = createTokenStore(window.localStorage);
