import { describe, expect, it, vi } from 'vitest';
import { createTokenStore, TOKEN_KEY } from './tokenStore';

describe('token store', () => {
  it('keeps the token in storage across store instances', () => {
    const store = createTokenStore(window.localStorage);
    expect(store.get()).toBeNull();
    store.set('abc');
    expect(store.get()).toBe('abc');
    expect(window.localStorage.getItem(TOKEN_KEY)).toBe('abc');
    expect(createTokenStore(window.localStorage).get()).toBe('abc');
    store.clear();
    expect(store.get()).toBeNull();
    expect(window.localStorage.getItem(TOKEN_KEY)).toBeNull();
  });

  it('notifies listeners on changes only', () => {
    const store = createTokenStore(window.localStorage);
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.set('abc');
    store.set('abc');
    expect(listener).toHaveBeenCalledTimes(1);
    store.clear();
    store.clear();
    expect(listener).toHaveBeenCalledTimes(2);
    unsubscribe();
    store.set('def');
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('picks up a sign-out in another tab through the storage event', () => {
    const store = createTokenStore(window.localStorage);
    const listener = vi.fn();
    store.subscribe(listener);
    window.dispatchEvent(new StorageEvent('storage', { key: 'something.else' }));
    expect(listener).not.toHaveBeenCalled();
    window.dispatchEvent(new StorageEvent('storage', { key: TOKEN_KEY }));
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('treats unreadable storage as signed out', () => {
    const broken = {
      getItem() {
        throw new Error('SecurityError');
      },
    } as unknown as Storage;
    expect(createTokenStore(broken).get()).toBeNull();
  });
});
