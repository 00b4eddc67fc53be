import { describe, expect, it } from 'vitest';
import { formatClock, formatDuration, secondsBetween, secondsUntil } from './format';

describe('clock formatting', () => {
  it('formats running clocks', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(7)).toBe('0:07');
    expect(formatClock(754)).toBe('12:34');
    expect(formatClock(3723)).toBe('1:02:03');
    expect(formatClock(-5)).toBe('0:00');
  });

  it('formats durations in words', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(192)).toBe('3 min 12 s');
    expect(formatDuration(180)).toBe('3 min');
    expect(formatDuration(3720)).toBe('1 h 2 min');
    expect(formatDuration(3600)).toBe('1 h');
  });

  it('counts down to the nearest whole second', () => {
    const deadline = '2026-11-21T12:00:30Z';
    expect(secondsUntil(deadline, Date.parse('2026-11-21T12:00:00Z'))).toBe(30);
    expect(secondsUntil(deadline, Date.parse('2026-11-21T11:59:59.98Z'))).toBe(30);
    expect(secondsUntil(deadline, Date.parse('2026-11-21T12:00:29.4Z'))).toBe(1);
    expect(secondsUntil(deadline, Date.parse('2026-11-21T12:00:29.6Z'))).toBe(0);
    expect(secondsUntil(deadline, Date.parse('2026-11-21T12:00:31Z'))).toBe(0);
    expect(secondsBetween('2026-11-21T12:00:00Z', '2026-11-21T12:01:05.9Z')).toBe(65);
    // Go's RFC 3339 with nanoseconds parses too.
    expect(secondsBetween('2026-11-21T12:00:00.123456789Z', Date.parse('2026-11-21T12:00:10.2Z'))).toBe(10);
  });
});
