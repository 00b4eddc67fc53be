import { useCallback, useSyncExternalStore } from 'react';

/**
 * WhatsApp's customer-service window (O2): free text may be sent until 24 hours after the
 * contact's last message (`Interaction.freeTextUntil`); without one, or once it has passed,
 * only an approved template may be sent.
 */

/** Whether free text may be sent at `now`. */
export function freeTextOpen(freeTextUntil: string | null | undefined, now: number): boolean {
  return Boolean(freeTextUntil) && Date.parse(freeTextUntil!) > now;
}

/** Whole seconds of free text left, or null when the window is closed. */
export function freeTextSecondsLeft(freeTextUntil: string | null | undefined, now: number): number | null {
  if (!freeTextOpen(freeTextUntil, now)) return null;
  return Math.floor((Date.parse(freeTextUntil!) - now) / 1000);
}

/** "23 h 12 min", "12 min", "under a minute": how long the window stays open, in words. */
export function formatWindowLeft(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return `${minutes} min`;
  return 'under a minute';
}

/**
 * Why the reply box offers only templates, for a WhatsApp interaction whose window is closed:
 * an outbound start the customer has not answered yet, or a customer silent for 24 hours.
 */
export function windowClosedReason(interaction: { direction?: string | null; lastContactAt?: string | null }): string {
  if (interaction.direction === 'OUTBOUND' && !interaction.lastContactAt)
    return 'The customer has not answered yet: WhatsApp allows only an approved template until they reply.';
  return 'The customer has not written in 24 hours: WhatsApp allows only an approved template until they reply.';
}

/** Longest delay setTimeout takes (about 24.8 days); the window is 24 hours, so it never waits that long. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Whether free text may be sent now. It changes by itself when the window closes: a timer set
 * for that moment re-renders the caller then, and nothing ticks meanwhile.
 */
export function useFreeTextOpen(freeTextUntil: string | null | undefined): boolean {
  const subscribe = useCallback(
    (changed: () => void) => {
      if (!freeTextUntil) return () => {};
      const ms = Date.parse(freeTextUntil) - Date.now();
      if (!(ms > 0)) return () => {};
      const timer = setTimeout(changed, Math.min(ms + 1, MAX_DELAY_MS));
      return () => clearTimeout(timer);
    },
    [freeTextUntil],
  );
  return useSyncExternalStore(subscribe, () => freeTextOpen(freeTextUntil, Date.now()));
}
