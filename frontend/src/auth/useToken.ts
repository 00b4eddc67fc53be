import { useSyncExternalStore } from 'react';
import type { TokenStore } from './tokenStore';

/** The current session token; re-renders when it is set or dropped (also from another tab). */
export function useToken(store: TokenStore): string | null {
  return useSyncExternalStore(store.subscribe, store.get);
}
