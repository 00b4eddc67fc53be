import { useSyncExternalStore } from 'react';

/**
 * One shared ticker for every timer on screen (card clocks, offer and wrap countdowns), so a desk
 * with many cards runs one interval, not one per card. It runs only while something is
 * subscribed, twice a second so a displayed second is never more than half a second late.
 */
const TICK_MS = 500;

const listeners = new Set<() => void>();
let now = Date.now();
let ticker: ReturnType<typeof setInterval> | undefined;

function tick() {
  now = Date.now();
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void) {
  if (listeners.size === 0) ticker = setInterval(tick, TICK_MS);
  listeners.add(listener);
  // A timer that mounts between ticks would show a time up to a second old (a fresh 60 s
  // countdown would read 1:01); React re-reads the snapshot right after subscribing.
  now = Date.now();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
}

function snapshot() {
  return now;
}

/** The current time in milliseconds, re-rendering the caller twice a second. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}
