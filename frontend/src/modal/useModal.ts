import { useEffect, type KeyboardEvent, type RefObject } from 'react';

// The modal dialogs' shared behaviour (the transfer dialog, the outbound start dialog).

const FOCUSABLE = 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])';

/** The dialog's tab stops in order: enabled, and for radio groups only the checked radio. */
function tabStops(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => {
    if ((el as HTMLButtonElement).disabled) return false;
    if (el instanceof HTMLInputElement && el.type === 'radio') return el.checked;
    return true;
  });
}

/** Tab from the last stop goes to the first, Shift+Tab from the first to the last. */
export function trapTab(event: KeyboardEvent, root: HTMLElement | null) {
  if (!root) return;
  const stops = tabStops(root);
  const first = stops[0];
  const last = stops.at(-1);
  if (!first || !last) return;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/**
 * While mounted: the rest of the page is inert (no clicks, no focus, hidden from assistive
 * technology), focus starts in `initial`, anything that still lands outside is brought back,
 * and on close focus returns where it was.
 */
export function useModal(dialogRef: RefObject<HTMLElement | null>, initial: RefObject<HTMLElement | null>) {
  useEffect(() => {
    const dialog = dialogRef.current;
    const portal = dialog?.parentElement;
    const opener = document.activeElement as HTMLElement | null;
    const made: Element[] = [];
    for (const el of Array.from(document.body.children)) {
      if (el !== portal && !el.hasAttribute('inert')) {
        el.setAttribute('inert', '');
        made.push(el);
      }
    }
    initial.current?.focus();
    const keepInside = (event: FocusEvent) => {
      if (dialog && event.target instanceof Node && !dialog.contains(event.target)) initial.current?.focus();
    };
    document.addEventListener('focusin', keepInside);
    return () => {
      document.removeEventListener('focusin', keepInside);
      made.forEach((el) => el.removeAttribute('inert'));
      if (opener?.isConnected) opener.focus();
    };
  }, [dialogRef, initial]);
}
