import { useEffect, useState } from 'react';

const PREFIX = 'agentdesk.playground.';

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

/**
 * A string state that survives reloads, saved in localStorage under the playground's prefix.
 * `storable` maps the value to what may be saved (null: save nothing new); it also applies to
 * what was saved before, on load, so a secret an older version stored is dropped at once.
 */
export function usePersistentState(
  key: string,
  initial: string,
  storable: (value: string) => string | null = (value) => value,
) {
  const [value, setValue] = useState(() => {
    const saved = read(key);
    return (saved === null ? null : storable(saved)) ?? initial;
  });
  useEffect(() => {
    const saved = storable(value);
    if (saved === null) return;
    try {
      window.localStorage.setItem(PREFIX + key, saved);
    } catch {
      // storage full or disabled: the editor still works for this visit
    }
  }, [key, value, storable]);
  return [value, setValue] as const;
}
