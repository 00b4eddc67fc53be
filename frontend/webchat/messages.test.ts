import { describe, expect, it } from 'vitest';
import { compareTimes, mergeMessages, type ChatMessage } from './messages';

const m = (id: string, sentAt: string, text = id, from: ChatMessage['from'] = 'CONTACT'): ChatMessage => ({
  id,
  from,
  text,
  sentAt,
});

describe('compareTimes', () => {
  it('orders to the nanosecond, whatever the number of fraction digits', () => {
    expect(compareTimes('2025-01-01T10:00:05.1Z', '2025-01-01T10:00:05.12Z')).toBeLessThan(0);
    expect(compareTimes('2025-01-01T10:00:05.000000002Z', '2025-01-01T10:00:05.000000001Z')).toBeGreaterThan(0);
    expect(compareTimes('2025-01-01T10:00:05Z', '2025-01-01T10:00:05.000000001Z')).toBeLessThan(0);
    expect(compareTimes('2025-01-01T10:00:06Z', '2025-01-01T10:00:05.999999999Z')).toBeGreaterThan(0);
    expect(compareTimes('2025-01-01T10:00:05.5Z', '2025-01-01T10:00:05.500Z')).toBe(0);
  });
});

describe('mergeMessages', () => {
  const a = m('a', '2025-01-01T10:00:00.1Z');
  const b = m('b', '2025-01-01T10:00:01Z', 'hello', 'AGENT');
  const c = m('c', '2025-01-01T10:00:02Z');

  it('adds new messages in sentAt order', () => {
    expect(mergeMessages([a, c], [b])).toEqual([a, b, c]);
    expect(mergeMessages([], [c, a, b])).toEqual([a, b, c]);
  });

  it('drops duplicates: the same message from the socket, myChat and our own send is kept once', () => {
    const once = mergeMessages([a], [b]);
    const twice = mergeMessages(once, [b, { ...a }]);
    expect(twice).toEqual([a, b]);
    expect(mergeMessages(twice, [a, b, c, c])).toEqual([a, b, c]);
  });

  it('returns the same array when nothing changed, so callers can skip rendering', () => {
    const list = [a, b];
    expect(mergeMessages(list, [{ ...b }, a])).toBe(list);
    expect(mergeMessages(list, [])).toBe(list);
  });

  it('replaces a message whose content changed, in place', () => {
    const edited = { ...b, text: 'hello again' };
    expect(mergeMessages([a, b, c], [edited])).toEqual([a, edited, c]);
  });

  it('keeps arrival order for equal times', () => {
    const x = m('x', '2025-01-01T10:00:00Z');
    const y = m('y', '2025-01-01T10:00:00Z');
    expect(mergeMessages([x], [y]).map((n) => n.id)).toEqual(['x', 'y']);
    expect(mergeMessages([y], [x]).map((n) => n.id)).toEqual(['y', 'x']);
  });
});
