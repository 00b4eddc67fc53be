import { describe, expect, it } from 'vitest';
import { changes, show } from './AuditSection';
import { agentErrors } from './AgentsSection';
import { planErrors, reapply } from './PlansSection';
import { fieldErrors, GENERAL } from './userErrors';
import { agentProblems, planProblems, wholeNumberProblem, type AgentForm, type PlanForm } from './validation';

const agent = (over: Partial<AgentForm> = {}): AgentForm => ({
  username: 'ann',
  name: 'Ann Agent',
  password: 'long-enough',
  role: 'AGENT',
  planIds: [],
  capacity: { WEBCHAT: '', SMS: '', RCS: '', WHATSAPP: '', EMAIL: '', VOICE: '' },
  autoAccept: false,
  ...over,
});

const plan = (over: Partial<PlanForm> = {}): PlanForm => ({
  name: 'Support',
  channels: ['WEBCHAT'],
  codes: [{ key: 'a', code: 'RESOLVED', label: 'Resolved' }],
  dispositionRequired: false,
  wrapSeconds: '60',
  offerTimeoutSeconds: '30',
  autoAccept: false,
  autoPark: false,
  autoParkSeconds: '300',
  parkedTimeoutSeconds: '3600',
  postParkingPlanId: '',
  dispositionAssist: false,
  summaryAssist: false,
  ...over,
});

describe('wholeNumberProblem', () => {
  it('takes whole numbers in range and says what is wrong otherwise', () => {
    expect(wholeNumberProblem('5', 5, 600)).toBeNull();
    expect(wholeNumberProblem(' 600 ', 5, 600)).toBeNull();
    expect(wholeNumberProblem('4', 5, 600)).toBe('Enter a number from 5 to 600.');
    expect(wholeNumberProblem('601', 5, 600)).toBe('Enter a number from 5 to 600.');
    expect(wholeNumberProblem('1.5', 0, 100)).toBe('Enter a whole number.');
    expect(wholeNumberProblem('ten', 0, 100)).toBe('Enter a whole number.');
    expect(wholeNumberProblem('', 0, 100)).toBe('Required.');
    expect(wholeNumberProblem('-1', 0)).toBe('Enter 0 or more.');
  });
});

describe('agentProblems', () => {
  it('a new agent needs a one-word username, a name and a password of 8 or more', () => {
    expect(agentProblems(agent(), true)).toEqual({});
    expect(agentProblems(agent({ username: '', name: ' ', password: '' }), true)).toEqual({
      username: 'Enter the username they sign in with.',
      name: 'Enter the name others see.',
      password: 'Enter their first password.',
    });
    expect(agentProblems(agent({ username: 'ann smith', password: 'short' }), true)).toEqual({
      username: 'One word: no spaces.',
      password: 'At least 8 characters.',
    });
    expect(agentProblems(agent({ password: 'x'.repeat(73) }), true).password).toBe('At most 72 bytes.');
  });

  it('editing asks for no username or password; capacity is 0 to 100 per channel, empty leaves it', () => {
    expect(agentProblems(agent({ username: '', password: '' }), false)).toEqual({});
    const capacity = { WEBCHAT: '0', SMS: '100', RCS: '101', WHATSAPP: '-1', EMAIL: '', VOICE: '2.5' };
    expect(agentProblems(agent({ capacity }), false)).toEqual({
      'capacity.RCS': 'Enter a number from 0 to 100.',
      'capacity.WHATSAPP': 'Enter a number from 0 to 100.',
      'capacity.VOICE': 'Enter a whole number.',
    });
  });
});

describe('planProblems', () => {
  it('a valid plan has none', () => {
    expect(planProblems(plan())).toEqual({});
  });

  it('checks name, channels, codes and every timer against the server’s bounds', () => {
    expect(
      planProblems(
        plan({
          name: '',
          channels: [],
          codes: [
            { key: 'a', code: 'OK', label: '' },
            { key: 'b', code: 'ok', label: 'Again' },
            { key: 'c', code: 'no spaces', label: 'x' },
          ],
          wrapSeconds: '3601',
          offerTimeoutSeconds: '4',
          autoPark: true,
          autoParkSeconds: '29',
          parkedTimeoutSeconds: '59',
        }),
      ),
    ).toEqual({
      name: 'Enter the plan’s name.',
      channels: 'Choose at least one channel.',
      'dispositionCodes.0.label': 'Enter what agents see.',
      'dispositionCodes.1.code': 'This code is already in the list.',
      'dispositionCodes.2.code': 'Letters, digits and _ only.',
      wrapSeconds: 'Enter a number from 0 to 3600.',
      offerTimeoutSeconds: 'Enter a number from 5 to 600.',
      autoParkSeconds: 'Enter a number from 30 to 86400.',
      parkedTimeoutSeconds: 'Enter a number from 60 to 604800.',
    });
  });

  it('codes required: at least one code, and no wrap timer to check; auto-park off: no seconds to check', () => {
    expect(planProblems(plan({ dispositionRequired: true, codes: [], wrapSeconds: 'x', autoParkSeconds: 'x' }))).toEqual({
      dispositionCodes: 'Add at least one code when a code is required.',
    });
  });
});

describe('userErrors on fields', () => {
  it('maps a field path, with or without "input", to the field; unknown fields and none go to the form', () => {
    const errors = fieldErrors(
      [
        { code: 'TAKEN', message: 'the username ann is taken', field: ['input', 'username'] },
        { code: 'INVALID', message: 'bad name', field: ['name'] },
        { code: 'INVALID', message: 'and again', field: ['name'] },
        { code: 'FORBIDDEN', message: 'supervisors only', field: null },
        { code: 'INVALID', message: 'what?', field: ['mystery'] },
      ],
      (key) => key === 'username' || key === 'name',
    );
    expect(errors).toEqual({
      username: 'the username ann is taken',
      name: 'bad name and again',
      [GENERAL]: 'supervisors only what?',
    });
  });

  it('agent capacity errors land on the channel sent at that index, or on capacity as a whole', () => {
    const sent = [
      { channel: 'WEBCHAT' as const, max: 2 },
      { channel: 'SMS' as const, max: 200 },
    ];
    expect(agentErrors([{ code: 'INVALID', message: 'too many', field: ['input', 'capacity', '1', 'max'] }], sent)).toEqual({
      'capacity.SMS': 'too many',
    });
    expect(agentErrors([{ code: 'INVALID', message: 'sms capacity must be 0 to 100', field: ['capacity'] }], sent)).toEqual({
      capacity: 'sms capacity must be 0 to 100',
    });
  });

  it('plan errors land on a code row when the path names one the form has', () => {
    expect(planErrors([{ code: 'INVALID', message: 'bad code', field: ['dispositionCodes', '0', 'code'] }], 1)).toEqual({
      'dispositionCodes.0.code': 'bad code',
    });
    expect(planErrors([{ code: 'INVALID', message: 'bad code', field: ['dispositionCodes', '3', 'code'] }], 1)).toEqual({
      dispositionCodes: 'bad code',
    });
    expect(planErrors([{ code: 'CYCLE', message: 'leads back', field: ['postParkingPlanId'] }], 1)).toEqual({
      postParkingPlanId: 'leads back',
    });
  });
});

describe('re-applying a change after a conflict', () => {
  it('keeps what the supervisor changed and takes every other setting from the current plan', () => {
    const base = plan();
    const mine = plan({ wrapSeconds: '90', codes: [{ key: 'x', code: 'RESOLVED', label: 'Resolved' }] });
    const current = plan({ offerTimeoutSeconds: '45', codes: [{ key: 'y', code: 'RESOLVED', label: 'Done' }] });
    const merged = reapply(base, mine, current);
    expect(merged.wrapSeconds).toBe('90');
    expect(merged.offerTimeoutSeconds).toBe('45');
    // Codes unchanged by the supervisor (only their row keys differ): the current ones.
    expect(merged.codes.map((c) => c.label)).toEqual(['Done']);
  });
});

describe('audit changes', () => {
  it('lists every changed field with its value before and after, readably', () => {
    expect(changes('{"offerTimeoutSeconds":30,"channels":["WEBCHAT"]}', '{"offerTimeoutSeconds":45,"channels":["WEBCHAT","SMS"]}')).toEqual([
      { field: 'offerTimeoutSeconds', before: '30', after: '45' },
      { field: 'channels', before: 'WEBCHAT', after: 'WEBCHAT, SMS' },
    ]);
    expect(changes(null, '{"name":"Support","autoAccept":false}')).toEqual([
      { field: 'name', before: null, after: 'Support' },
      { field: 'autoAccept', before: null, after: 'no' },
    ]);
    expect(changes('{"title":"Hi"}', null)).toEqual([{ field: 'title', before: 'Hi', after: null }]);
    expect(show({ WEBCHAT: 4 })).toBe('{"WEBCHAT":4}');
    expect(show('')).toBe('""');
  });
});
