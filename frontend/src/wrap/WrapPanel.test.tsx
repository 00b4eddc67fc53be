import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Client, GraphQLRequest, OperationResult } from '@urql/core';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeSubject, type Source, type Subject } from 'wonka';
import { interaction, salesPlan, supportPlan } from '../testing/fixtures';
import { mockClient, operationName } from '../testing/mockClient';
import { LogChat } from './WrapPanel';
import { NOTES_SAVE_DELAY_MS } from './useNotes';

const payload = (field: string, fields: object) => ({
  data: {
    [field]: {
      __typename: 'InteractionPayload',
      interaction: { __typename: 'Interaction', id: 'i-1', ...fields },
      userErrors: [],
    },
  },
});

const wrapping = (overrides = {}) =>
  interaction({
    id: 'i-1',
    state: 'WRAP',
    endedAt: '2026-11-21T12:05:00Z',
    endedBy: 'AGENT',
    durationSeconds: 295,
    ...overrides,
  });

afterEach(() => {
  vi.useRealTimers();
});

/** A client whose mutations wait until the test answers them, one by one. */
function answeredByHand() {
  const answers: Subject<Partial<OperationResult>>[] = [];
  const executeMutation = vi.fn<(request: GraphQLRequest) => Source<Partial<OperationResult>>>(() => {
    const answer = makeSubject<Partial<OperationResult>>();
    answers.push(answer);
    return answer.source;
  });
  return {
    client: { executeMutation } as unknown as Client,
    /** The codes sent so far, in order. */
    codes: () => executeMutation.mock.calls.map(([request]) => (request.variables as { input: { code: string } }).input.code),
    answer: (i: number) => answers[i]!.next(payload('selectDisposition', { dispositions: [] })),
  };
}

const threeCodes = {
  ...supportPlan,
  dispositionCodes: [...supportPlan.dispositionCodes, { __typename: 'DispositionCode', code: 'ESCALATED', label: 'Escalated' }],
};

describe('LogChat in WRAP', () => {
  it('W3: with required codes, Complete is disabled with the reason as its tooltip until a code is chosen', async () => {
    const { wrapper, executeMutation } = mockClient(() => null);
    const { rerender } = render(
      <LogChat interaction={wrapping({ plan: supportPlan })} onCompleted={() => {}} />,
      { wrapper },
    );

    const complete = screen.getByRole('button', { name: 'Complete' });
    expect(complete.getAttribute('aria-disabled')).toBe('true');
    const tooltip = screen.getByRole('tooltip');
    expect(tooltip.textContent).toBe('Choose at least one disposition code to complete: this plan requires one.');
    expect(complete.getAttribute('aria-describedby')).toBe(tooltip.id);
    // No countdown: required codes mean no wrap timer.
    expect(screen.queryByRole('timer')).toBeNull();

    await userEvent.click(complete);
    expect(executeMutation).not.toHaveBeenCalled();

    rerender(
      <LogChat
        interaction={wrapping({
          plan: supportPlan,
          dispositions: [{ __typename: 'DispositionCode', code: 'RESOLVED', label: 'Resolved' }],
        })}
        onCompleted={() => {}}
      />,
    );
    expect(screen.getByRole('button', { name: 'Complete' }).getAttribute('aria-disabled')).toBe('false');
    expect(screen.queryByRole('tooltip')).toBeNull();
  });

  it('W3: codes add up in WRAP; a chosen code stays ticked', async () => {
    const { wrapper, executeMutation } = mockClient((request) =>
      payload('selectDisposition', {
        dispositions: [
          { __typename: 'DispositionCode', code: (request.variables as { input: { code: string } }).input.code, label: 'x' },
        ],
      }),
    );
    render(
      <LogChat
        interaction={wrapping({
          plan: supportPlan,
          dispositions: [{ __typename: 'DispositionCode', code: 'RESOLVED', label: 'Resolved' }],
        })}
        onCompleted={() => {}}
      />,
      { wrapper },
    );
    const codes = screen.getByRole('group', { name: /Disposition codes/ });
    const resolved = within(codes).getByRole('checkbox', { name: 'Resolved' });
    expect(resolved).toHaveProperty('checked', true);
    // Locked, yet focusable: aria-disabled, not disabled.
    expect(resolved.getAttribute('aria-disabled')).toBe('true');
    await userEvent.click(resolved);
    expect(resolved).toHaveProperty('checked', true);
    expect(executeMutation).not.toHaveBeenCalled();

    const followUp = within(codes).getByRole('checkbox', { name: 'Follow-up needed' });
    followUp.focus();
    await userEvent.keyboard(' ');
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { interactionId: 'i-1', code: 'FOLLOW_UP' },
    });
    expect(document.activeElement).toBe(followUp);
  });

  it('W3: codes ticked while one is on its way stay ticked and all go to the server, in order', async () => {
    const server = answeredByHand();
    render(
      <Provider value={server.client}>
        <LogChat interaction={wrapping({ plan: threeCodes })} onCompleted={() => {}} />
      </Provider>,
    );
    const codes = screen.getByRole('group', { name: /Disposition codes/ });
    const followUp = within(codes).getByRole('checkbox', { name: 'Follow-up needed' });
    const escalated = within(codes).getByRole('checkbox', { name: 'Escalated' });
    await userEvent.click(followUp);
    await userEvent.click(escalated);
    expect(followUp).toHaveProperty('checked', true);
    expect(escalated).toHaveProperty('checked', true);
    expect(document.activeElement).toBe(escalated);
    expect(server.codes()).toEqual(['FOLLOW_UP']);

    act(() => server.answer(0));
    await vi.waitFor(() => expect(server.codes()).toEqual(['FOLLOW_UP', 'ESCALATED']));
  });

  it('W3: with optional codes a wrap countdown runs, and Extend asks the server for more time', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(Date.parse('2026-11-21T12:05:00Z'));
    const { wrapper, executeMutation } = mockClient(() =>
      payload('extendWrap', { wrapDeadline: '2026-11-21T12:06:10Z' }),
    );
    render(
      <LogChat
        interaction={wrapping({ plan: salesPlan, wrapDeadline: '2026-11-21T12:06:00Z' })}
        onCompleted={() => {}}
      />,
      { wrapper },
    );

    expect(screen.getByRole('timer').textContent).toBe('1:00');
    act(() => vi.advanceTimersByTime(51_000));
    expect(screen.getByRole('timer').textContent).toBe('0:09');
    expect(screen.getByText(/Wrap-up ends in/).closest('.wrap-countdown')!.getAttribute('data-urgent')).toBe('true');
    // Optional codes: Complete is available at once.
    expect(screen.getByRole('button', { name: 'Complete' }).getAttribute('aria-disabled')).toBe('false');

    await act(async () => screen.getByRole('button', { name: 'Extend' }).click());
    expect(operationName(executeMutation.mock.calls[0]![0])).toBe('ExtendWrap');
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({ input: { interactionId: 'i-1' } });

    act(() => vi.advanceTimersByTime(10_000));
    expect(screen.getByText('Wrap-up time is up: completing with what was entered…')).toBeTruthy();
  });

  it('W5: Complete saves unsaved notes first, then completes', async () => {
    const { wrapper, executeMutation } = mockClient((request) =>
      operationName(request) === 'SetNotes'
        ? payload('setNotes', { notes: 'Refund issued' })
        : payload('completeInteraction', { state: 'COMPLETED', completedAt: '2026-11-21T12:06:00Z', notes: 'Refund issued', dispositions: [] }),
    );
    const onCompleted = vi.fn();
    render(<LogChat interaction={wrapping({ plan: salesPlan })} onCompleted={onCompleted} />, {
      wrapper,
    });

    await userEvent.type(screen.getByRole('textbox', { name: 'Notes' }), 'Refund issued');
    await userEvent.click(screen.getByRole('button', { name: 'Complete' }));

    expect(executeMutation.mock.calls.map(([r]) => operationName(r))).toEqual(['SetNotes', 'CompleteInteraction']);
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { interactionId: 'i-1', notes: 'Refund issued' },
    });
    expect(onCompleted).toHaveBeenCalledWith('i-1');
  });

  it('shows DISPOSITION_REQUIRED from the server', async () => {
    const { wrapper } = mockClient(() => ({
      data: {
        completeInteraction: {
          __typename: 'InteractionPayload',
          interaction: null,
          userErrors: [{ __typename: 'UserError', code: 'DISPOSITION_REQUIRED', message: 'Choose a disposition code first.' }],
        },
      },
    }));
    render(<LogChat interaction={wrapping({ plan: salesPlan })} onCompleted={() => {}} />, { wrapper });
    await userEvent.click(screen.getByRole('button', { name: 'Complete' }));
    expect(screen.getByRole('alert').textContent).toBe('Choose a disposition code first.');
  });
});

describe('LogChat while ACTIVE', () => {
  it('H2: one disposition code at a time, and notes saved after a pause', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { wrapper, executeMutation } = mockClient((request) =>
      operationName(request) === 'SetNotes'
        ? payload('setNotes', { notes: 'Asked about delivery' })
        : payload('selectDisposition', { dispositions: [] }),
    );
    render(<LogChat interaction={interaction({ id: 'i-1' })} onCompleted={() => {}} />, { wrapper });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });

    expect(screen.queryByRole('button', { name: 'Complete' })).toBeNull();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Disposition code' }), 'FOLLOW_UP');
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { interactionId: 'i-1', code: 'FOLLOW_UP' },
    });

    await user.type(screen.getByRole('textbox', { name: 'Notes' }), 'Asked about delivery');
    expect(executeMutation).toHaveBeenCalledTimes(1);
    await act(async () => vi.advanceTimersByTime(NOTES_SAVE_DELAY_MS));
    expect(executeMutation).toHaveBeenCalledTimes(2);
    expect(executeMutation.mock.calls[1]![0].variables).toEqual({
      input: { interactionId: 'i-1', notes: 'Asked about delivery' },
    });
    expect(screen.getByText('Saved')).toBeTruthy();
  });

  it('H2: codes chosen while one is on its way follow it in order, only the latest, and the list keeps the focus', async () => {
    const server = answeredByHand();
    render(
      <Provider value={server.client}>
        <LogChat interaction={interaction({ id: 'i-1', plan: threeCodes })} onCompleted={() => {}} />
      </Provider>,
    );
    const list = screen.getByRole('combobox', { name: 'Disposition code' });
    list.focus();
    await userEvent.selectOptions(list, 'RESOLVED');
    await userEvent.selectOptions(list, 'FOLLOW_UP');
    await userEvent.selectOptions(list, 'ESCALATED');
    expect(server.codes()).toEqual(['RESOLVED']);
    expect(list).toHaveProperty('disabled', false);
    expect(document.activeElement).toBe(list);

    act(() => server.answer(0));
    await vi.waitFor(() => expect(server.codes()).toEqual(['RESOLVED', 'ESCALATED']));
  });
});
