import { formatClock, secondsUntil } from '../clock/format';
import { useNow } from '../clock/useNow';

/** Seconds left at which a parked interaction's countdown turns urgent (K3: 10 minutes). */
export const PARKED_URGENT_SECONDS = 10 * 60;

/**
 * The time a parked interaction has left before the system ends it (K3, K5). At 10 minutes it
 * turns red, and says so in more than colour: a warning glyph, bold text, and "ending soon" for
 * screen readers.
 */
export function ParkedCountdown({ until, label = 'ends in' }: { until: string; label?: string }) {
  const left = secondsUntil(until, useNow());
  const urgent = left <= PARKED_URGENT_SECONDS;
  return (
    <span
      className={urgent ? 'parked-countdown parked-countdown--urgent' : 'parked-countdown'}
      data-urgent={urgent}
    >
      {urgent && (
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
          <path d="M8 1.8 15 14H1z" fill="currentColor" />
          <path d="M8 6v4M8 11.6v.9" stroke="#fff" strokeWidth="1.6" strokeLinecap="round" />
        </svg>
      )}
      <span className="visually-hidden">{label} </span>
      {formatClock(left)}
      {urgent && <span className="visually-hidden"> (ending soon)</span>}
    </span>
  );
}
