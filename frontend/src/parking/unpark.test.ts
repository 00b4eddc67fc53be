import { describe, expect, it } from 'vitest';
import { endedByParkedTimeout, unparkMessage, unparkOutcome } from './unpark';

describe('unpark notifications (K4, K6)', () => {
  const me = 'agent-alice';

  it('tells back with me, ended, and gone to the queue apart, also when routing already offered it elsewhere', () => {
    expect(unparkOutcome({ state: 'ACTIVE', agent: { id: me } }, me)).toBe('back');
    expect(unparkOutcome({ state: 'WRAP', agent: { id: me } }, me)).toBe('ended');
    expect(unparkOutcome({ state: 'QUEUED', agent: null }, me)).toBe('queued');
    // The post-parking queue offered it to bob at once, or his auto-accept took it.
    expect(unparkOutcome({ state: 'OFFERED', agent: { id: 'agent-bob' } }, me)).toBe('queued');
    expect(unparkOutcome({ state: 'ACTIVE', agent: { id: 'agent-bob' } }, me)).toBe('queued');
  });

  it('words the toast for each outcome', () => {
    expect(unparkMessage('back', 'Jane Doe', 'WEBCHAT', 'Support')).toBe('Jane Doe replied — back in Active');
    expect(unparkMessage('queued', 'Jane Doe', 'WEBCHAT', 'Support')).toBe('Jane Doe replied — moved to the Support queue');
    expect(unparkMessage('ended', 'Jane Doe', 'WEBCHAT', 'Sales')).toBe('Jane Doe replied — chat ended: no post-parking plan');
    expect(unparkMessage('ended', 'jane@example.com', 'EMAIL', 'Sales')).toBe(
      'jane@example.com replied — email ended: no post-parking plan',
    );
  });

  it('K5: recognises an end by the parked timeout, not one by a reply', () => {
    const plan = { parkedTimeoutSeconds: 3600 };
    const parkedAt = '2026-11-21T12:00:00Z';
    const ended = (endedAt: string, endedBy = 'SYSTEM') =>
      endedByParkedTimeout({ state: 'WRAP', endedBy, endedAt, parkedAt, plan });
    expect(ended('2026-11-21T13:00:00.2Z')).toBe(true);
    expect(ended('2026-11-21T12:20:00Z')).toBe(false); // the reply ended it (K6)
    expect(ended('2026-11-21T13:00:00Z', 'AGENT')).toBe(false);
    expect(endedByParkedTimeout({ state: 'WRAP', endedBy: 'SYSTEM', endedAt: '2026-11-21T13:00:00Z', parkedAt: null, plan })).toBe(false);
  });
});
