// Where the visitor's chat token lives between page loads: localStorage, one key per
// server and plan, so a returning visitor resumes their open chat. Storage can be missing or
// throw (privacy modes, sandboxed frames); the widget then simply forgets on reload.

export function tokenKey(serverOrigin: string, planId: string | undefined) {
  return `agentdesk-webchat:${serverOrigin}:${planId || 'default'}`;
}

export function createTokenStore(storage: () => Storage | undefined, key: string) {
  const attempt = <T>(fn: (s: Storage) => T) => {
    try {
      const s = storage();
      return s ? fn(s) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    get: () => attempt((s) => s.getItem(key)) || undefined,
    set: (token: string) => void attempt((s) => s.setItem(key, token)),
    clear: () => void attempt((s) => s.removeItem(key)),
  };
}

export type TokenStore = ReturnType<typeof createTokenStore>;
