/** Whole seconds from `from` to `to` (ISO instants or epoch milliseconds), never negative. */
export function secondsBetween(from: string | number, to: string | number): number {
  const start = typeof from === 'number' ? from : Date.parse(from);
  const end = typeof to === 'number' ? to : Date.parse(to);
  return Math.max(0, Math.floor((end - start) / 1000));
}

/**
 * Seconds left until `deadline`, to the nearest second: a fresh 60 s countdown read a few
 * milliseconds after it started shows 1:00, not 1:01.
 */
export function secondsUntil(deadline: string, now: number): number {
  return Math.max(0, Math.round((Date.parse(deadline) - now) / 1000));
}

/** A running clock: 0:07, 12:34, 1:02:03. */
export function formatClock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}

/** A duration in words for people and screen readers: 45 s, 3 min 12 s, 1 h 2 min. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}

// One formatter for every message: toLocaleTimeString builds a new one on each call, which
// costs more than the rest of a transcript row's rendering.
let timeOfDay: Intl.DateTimeFormat | undefined;

/** A message's time of day in the agent's locale, e.g. 14:05. */
export function formatTime(iso: string): string {
  timeOfDay ??= new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  return timeOfDay.format(new Date(iso));
}
