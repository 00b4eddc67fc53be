import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { interaction, supportPlan } from '../testing/fixtures';
import { mockClient, operationName } from '../testing/mockClient';
import { LogChat } from './WrapPanel';

const assistPlan = {
  ...supportPlan,
  dispositionAssist: true,
  summaryAssist: true,
  dispositionCodes: [
    ...supportPlan.dispositionCodes,
    { __typename: 'DispositionCode', code: 'CARD_LOST', label: 'Card lost or stolen' },
  ],
};

const suggestions = [
  { __typename: 'DispositionSuggestion', code: { __typename: 'DispositionCode', code: 'CARD_LOST', label: 'Card lost or stolen' }, confidence: 0.82 },
  { __typename: 'DispositionSuggestion', code: { __typename: 'DispositionCode', code: 'RESOLVED', label: 'Resolved' }, confidence: 0.1 },
];

const payload = (field: string, fields: object) => ({
  data: { [field]: { __typename: 'InteractionPayload', interaction: { __typename: 'Interaction', id: 'i-1', ...fields }, userErrors: [] } },
});

describe('Agent Assist in the log panel (W4)', () => {
  it('shows the suggestions as chips, best first; one click chooses the code', async () => {
    const { wrapper, executeMutation } = mockClient((r) =>
      operationName(r) === 'SelectDisposition' ? payload('selectDisposition', { dispositions: [] }) : null,
    );
    render(<LogChat interaction={interaction({ id: 'i-1', plan: assistPlan, dispositionSuggestions: suggestions })} onCompleted={() => {}} />, { wrapper });
    const group = screen.getByRole('group', { name: 'Suggested' });
    const chips = within(group).getAllByRole('button');
    expect(chips.map((c) => c.textContent)).toEqual(['Card lost or stolen', 'Resolved']);
    await userEvent.setup().click(chips[0]!);
    const [request] = executeMutation.mock.calls.at(-1)!;
    expect(operationName(request)).toBe('SelectDisposition');
    expect(request.variables).toEqual({ input: { interactionId: 'i-1', code: 'CARD_LOST' } });
  });

  it('shows no chips without suggestions, nor while parked', () => {
    const { wrapper } = mockClient(() => null);
    const { rerender } = render(<LogChat interaction={interaction({ id: 'i-1', plan: assistPlan })} onCompleted={() => {}} />, { wrapper });
    expect(screen.queryByRole('group', { name: 'Suggested' })).toBeNull();
    rerender(<LogChat readOnly interaction={interaction({ id: 'i-1', state: 'PARKED', plan: assistPlan, dispositionSuggestions: suggestions })} onCompleted={() => {}} />);
    expect(screen.queryByRole('group', { name: 'Suggested' })).toBeNull();
  });

  it('Insert summary saves the typed notes first, then asks the server to append the recap', async () => {
    const { wrapper, executeMutation } = mockClient((r) =>
      operationName(r) === 'SetNotes' ? payload('setNotes', { notes: 'My note' }) : payload('insertSummary', { notes: 'My note\n\nSummary (offline):\nx' }),
    );
    render(<LogChat interaction={interaction({ id: 'i-1', plan: assistPlan })} onCompleted={() => {}} />, { wrapper });
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Notes' }), 'My note');
    await user.click(screen.getByRole('button', { name: 'Insert summary' }));
    const names = executeMutation.mock.calls.map(([r]) => operationName(r));
    expect(names).toEqual(['SetNotes', 'InsertSummary']);
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({ input: { interactionId: 'i-1', notes: 'My note' } });
  });

  it('offers no Insert summary where the plan has it off', () => {
    const { wrapper } = mockClient(() => null);
    render(<LogChat interaction={interaction({ id: 'i-1', plan: { ...assistPlan, summaryAssist: false } })} onCompleted={() => {}} />, { wrapper });
    expect(screen.queryByRole('button', { name: 'Insert summary' })).toBeNull();
  });
});
