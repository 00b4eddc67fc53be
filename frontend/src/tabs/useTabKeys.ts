import { useRef, type KeyboardEvent } from 'react';

/**
 * Keyboard moves for an ARIA tablist: Left/Right cycle through the tabs, Home and End jump to
 * the ends; the chosen tab is selected and focused. Spread `onKeyDown` on the tablist and give
 * each tab button `ref={tabRef(id)}`.
 */
export function useTabKeys<T extends string>(tabs: readonly { id: T }[], current: T, select: (id: T) => void) {
  const refs = useRef(new Map<T, HTMLButtonElement | null>());

  function onKeyDown(event: KeyboardEvent) {
    const index = tabs.findIndex((t) => t.id === current);
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = (index + 1) % tabs.length;
    if (event.key === 'ArrowLeft') next = (index - 1 + tabs.length) % tabs.length;
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = tabs.length - 1;
    if (next === null) return;
    event.preventDefault();
    const id = tabs[next]!.id;
    select(id);
    refs.current.get(id)?.focus();
  }

  const tabRef = (id: T) => (el: HTMLButtonElement | null) => {
    refs.current.set(id, el);
  };

  return { onKeyDown, tabRef };
}
