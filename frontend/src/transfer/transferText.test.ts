import { describe, expect, it } from 'vitest';
import { handedOverNotice, handedOverTo, transferResultMessage } from './transferText';

describe('transfer texts (T5, T6)', () => {
  const me = 'agent-alice';
  const alice = { id: me, name: 'Alice Martin' };
  const bob = { id: 'agent-bob', name: 'Bob Okafor' };
  const support = { name: 'Support' };

  it('knows when an interaction is no longer mine, and with whom it is', () => {
    expect(handedOverTo({ state: 'ACTIVE', agent: alice, plan: support }, me)).toBeNull();
    expect(handedOverTo({ state: 'WRAP', agent: alice, plan: support }, me)).toBeNull();
    expect(handedOverTo({ state: 'COMPLETED', agent: alice, plan: support }, me)).toBeNull();
    expect(handedOverTo({ state: 'ACTIVE', agent: bob, plan: support }, me)).toEqual({ kind: 'agent', name: 'Bob Okafor' });
    expect(handedOverTo({ state: 'QUEUED', agent: null, plan: support }, me)).toEqual({ kind: 'queue', name: 'Support' });
    expect(handedOverTo({ state: 'OFFERED', agent: bob, plan: support }, me)).toEqual({ kind: 'queue', name: 'Support' });
    expect(handedOverNotice({ kind: 'agent', name: 'Bob Okafor' })).toBe('Transferred to Bob Okafor');
    expect(handedOverNotice({ kind: 'queue', name: 'Support' })).toBe('Moved to the Support queue');
  });

  it('words the outcome toasts', () => {
    expect(transferResultMessage('ACCEPTED', 'Jane Doe', 'Bob Okafor', 'Support')).toBe('Bob Okafor accepted the transfer of Jane Doe.');
    expect(transferResultMessage('ACCEPTED', 'Jane Doe', null, 'Sales')).toBe('Jane Doe was transferred to the Sales queue.');
    expect(transferResultMessage('REJECTED', 'Jane Doe', 'Bob Okafor', 'Support')).toBe(
      'Bob Okafor did not accept the transfer of Jane Doe: it stays with you.',
    );
    expect(transferResultMessage('REJECTED', 'Jane Doe', 'Bob Okafor', 'Support', 'REJECTED_BY_TARGET')).toBe(
      'Bob Okafor did not accept the transfer of Jane Doe: it stays with you.',
    );
    expect(transferResultMessage('REJECTED', 'Jane Doe', 'Bob Okafor', 'Support', 'EXPIRED')).toBe(
      'Bob Okafor did not answer the transfer of Jane Doe in time: it stays with you.',
    );
    expect(transferResultMessage('REJECTED', 'Jane Doe', 'Bob Okafor', 'Support', 'INTERACTION_ENDED')).toBe(
      'The transfer of Jane Doe to Bob Okafor was withdrawn: the chat ended.',
    );
  });
});
