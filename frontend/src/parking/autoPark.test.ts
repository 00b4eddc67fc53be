import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  autoParkCountdown,
  autoParkedAfter,
  autoParkedMessage,
  markParkedHere,
  takeParkedHere,
  unmarkParkedHere,
} from './autoPark';

const plan = { autoParkSeconds: 600 };
const at = (minutes: number, seconds = 0) => new Date(Date.UTC(2026, 10, 21, 12, minutes, seconds)).toISOString();

afterEach(() => {
  vi.useRealTimers();
});

describe('auto-park (K2)', () => {
  it('tells the system’s parking from the agent’s by how long the contact had been silent', () => {
    const parked = { state: 'PARKED' as const, plan, acceptedAt: at(0), lastContactAt: at(2) };
    expect(autoParkedAfter({ ...parked, parkedAt: at(12, 0) })).toBe(600);
    // The server's timer fires at autoParkAt or a little later, never sooner.
    expect(autoParkedAfter({ ...parked, parkedAt: at(12, 3) })).toBe(600);
    expect(autoParkedAfter({ ...parked, parkedAt: at(7) })).toBeNull();
    // No message from the contact since it was accepted: silence counts from the acceptance.
    expect(autoParkedAfter({ ...parked, lastContactAt: null, parkedAt: at(10) })).toBe(600);
    expect(autoParkedAfter({ ...parked, lastContactAt: null, parkedAt: at(9) })).toBeNull();
    // A plan without auto-park, or an interaction that is not parked.
    expect(autoParkedAfter({ ...parked, plan: { autoParkSeconds: null }, parkedAt: at(30) })).toBeNull();
    expect(autoParkedAfter({ ...parked, state: 'ACTIVE', parkedAt: at(30) })).toBeNull();
  });

  it('words the toast with the plan’s auto-park time', () => {
    expect(autoParkedMessage('Jane Doe', 600)).toBe('Jane Doe was parked after 10 min without a reply');
    expect(autoParkedMessage('jane@example.com', 90)).toBe('jane@example.com was parked after 1 min 30 s without a reply');
  });

  it('counts down once the contact has been silent a minute, not while a transfer waits for an answer', () => {
    const active = { state: 'ACTIVE' as const, plan, autoParkAt: at(10), pendingTransfer: null };
    expect(autoParkCountdown(active, Date.parse(at(0, 30)))).toBeNull();
    expect(autoParkCountdown(active, Date.parse(at(1)))).toBe(540);
    expect(autoParkCountdown(active, Date.parse(at(9, 59)))).toBe(1);
    expect(autoParkCountdown(active, Date.parse(at(11)))).toBe(0);
    expect(autoParkCountdown({ ...active, pendingTransfer: { offerId: 'o' } }, Date.parse(at(5)))).toBeNull();
    expect(autoParkCountdown({ ...active, autoParkAt: null }, Date.parse(at(5)))).toBeNull();
    expect(autoParkCountdown({ ...active, state: 'PARKED' }, Date.parse(at(5)))).toBeNull();
    expect(autoParkCountdown({ ...active, plan: { autoParkSeconds: null } }, Date.parse(at(5)))).toBeNull();
  });

  it('a mark from the Park button is used once, dropped on failure, and forgotten after a minute', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    markParkedHere('i-1');
    expect(takeParkedHere('i-1')).toBe(true);
    expect(takeParkedHere('i-1')).toBe(false);

    markParkedHere('i-2');
    unmarkParkedHere('i-2');
    expect(takeParkedHere('i-2')).toBe(false);

    markParkedHere('i-3');
    vi.advanceTimersByTime(61_000);
    expect(takeParkedHere('i-3')).toBe(false);
  });
});
