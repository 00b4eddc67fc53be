import { describe, expect, it } from 'vitest';
import { autoParkCountdown, autoParkedMessage, parkedBySystem } from './autoPark';

const plan = { autoParkSeconds: 600 };
const at = (minutes: number, seconds = 0) => new Date(Date.UTC(2026, 10, 21, 12, minutes, seconds)).toISOString();

describe('auto-park (K2)', () => {
  it('tells the system’s parking from an agent’s by who the server says parked it', () => {
    expect(parkedBySystem({ state: 'PARKED', parkedBy: null })).toBe(true);
    expect(parkedBySystem({ state: 'PARKED', parkedBy: { id: 'agent-alice' } })).toBe(false);
    // Only a PARKED interaction has been parked by anyone.
    expect(parkedBySystem({ state: 'ACTIVE', parkedBy: null })).toBe(false);
  });

  it('words the toast with the plan’s auto-park time', () => {
    expect(autoParkedMessage('Jane Doe', 600)).toBe('Jane Doe was parked after 10 min without a reply');
    expect(autoParkedMessage('jane@example.com', 90)).toBe('jane@example.com was parked after 1 min 30 s without a reply');
    // The plan has turned auto-park off since.
    expect(autoParkedMessage('Jane Doe', null)).toBe('Jane Doe was parked for lack of a reply');
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

});
