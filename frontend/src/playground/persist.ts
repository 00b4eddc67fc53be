import { useEffect, useState } from 'react';

const PREFIX = 'agentdesk.playground.';

/** A string state that survives reloads, saved in localStorage under the playground's prefix. */
export function usePersistentState(key: string, initial: string) {
  const [value, setValue] = useState(() => {
    try {
      return window.localStorage.getItem(PREFIX + key) ?? initial;
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    try {
      window.localStorage.setItem(PREFIX + key, value);
    } catch {
      // storage full or disabled: the editor still works for this visit
    }
  }, [key, value]);
  return [value, setValue] as const;
}
