import { describe, expect, it } from 'vitest';
import { createTokenStore, tokenKey } from './store';

describe('tokenKey', () => {
  it('is namespaced by server and plan', () => {
    expect(tokenKey('https://desk.example.com', 'p1')).toBe('agentdesk-webchat:https://desk.example.com:p1');
    expect(tokenKey('https://desk.example.com', undefined)).toBe('agentdesk-webchat:https://desk.example.com:default');
    expect(tokenKey('https://desk.example.com', '')).toBe('agentdesk-webchat:https://desk.example.com:default');
  });
});

describe('createTokenStore', () => {
  it('keeps, returns and forgets the token under its key only', () => {
    const one = createTokenStore(() => localStorage, 'k1');
    const two = createTokenStore(() => localStorage, 'k2');
    expect(one.get()).toBeUndefined();
    one.set('secret');
    two.set('other');
    expect(localStorage.getItem('k1')).toBe('secret');
    expect(one.get()).toBe('secret');
    one.clear();
    expect(one.get()).toBeUndefined();
    expect(two.get()).toBe('other');
    localStorage.clear();
  });

  it('works without storage, or with storage that throws', () => {
    const missing = createTokenStore(() => undefined, 'k');
    missing.set('t');
    expect(missing.get()).toBeUndefined();
    const denied = createTokenStore(() => {
      throw new DOMException('denied', 'SecurityError');
    }, 'k');
    expect(() => denied.set('t')).not.toThrow();
    expect(denied.get()).toBeUndefined();
    expect(() => denied.clear()).not.toThrow();
    const full = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => undefined,
    } as unknown as Storage;
    expect(() => createTokenStore(() => full, 'k').set('t')).not.toThrow();
  });
});
