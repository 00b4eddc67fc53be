import type { Client, GraphQLRequest, OperationResult } from '@urql/core';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { describe, expect, it, vi } from 'vitest';
import { fromValue, never, type Source } from 'wonka';
import type { PresenceState } from '../gql/graphql';
import { PresenceSwitch } from './PresenceSwitch';

type ExecuteMutation = (request: GraphQLRequest) => Source<Partial<OperationResult>>;

function mutation(result: () => Source<Partial<OperationResult>>) {
  return vi.fn<ExecuteMutation>(result);
}

function renderSwitch(executeMutation: ExecuteMutation, presence: PresenceState = 'NOT_READY') {
  const client = { executeMutation } as unknown as Client;
  render(
    <Provider value={client}>
      <PresenceSwitch agent={{ id: 'A1', presence }} />
    </Provider>,
  );
}

const saved = (presence: string) =>
  fromValue({
    data: {
      setPresence: {
        __typename: 'SetPresencePayload',
        agent: { __typename: 'Agent', id: 'A1', presence, presenceSince: '2026-11-21T12:00:00Z' },
        userErrors: [],
      },
    },
  });

describe('PresenceSwitch', () => {
  it('shows the current presence as the checked option of a labelled radio group', () => {
    renderSwitch(mutation(() => never));
    const group = screen.getByRole('radiogroup', { name: 'Presence' });
    expect(group).toBeTruthy();
    expect(screen.getByRole('radio', { name: 'Not Ready' })).toHaveProperty('checked', true);
    expect(screen.getByRole('radio', { name: 'Ready' })).toHaveProperty('checked', false);
    expect(screen.getByRole('radio', { name: 'Offline' })).toHaveProperty('checked', false);
  });

  it('calls setPresence with the chosen state', async () => {
    const executeMutation = mutation(() => saved('READY'));
    renderSwitch(executeMutation);

    await userEvent.click(screen.getByRole('radio', { name: 'Ready' }));

    expect(executeMutation).toHaveBeenCalledTimes(1);
    const [request] = executeMutation.mock.calls[0]!;
    expect(request.variables).toEqual({ input: { presence: 'READY' } });
  });

  it('can be driven from the keyboard', async () => {
    const executeMutation = mutation(() => saved('NOT_READY'));
    renderSwitch(executeMutation, 'READY');
    const user = userEvent.setup();

    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole('radio', { name: 'Ready' }));
    await user.keyboard('{ArrowRight}');

    expect(executeMutation).toHaveBeenCalledTimes(1);
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { presence: 'NOT_READY' },
    });
  });

  it('shows the chosen option while the change is in flight', async () => {
    renderSwitch(mutation(() => never));

    await userEvent.click(screen.getByRole('radio', { name: 'Offline' }));

    expect(screen.getByRole('radio', { name: 'Offline' })).toHaveProperty('checked', true);
    expect(screen.getByRole('radiogroup').getAttribute('aria-busy')).toBe('true');
  });

  it('shows a user error from the server', async () => {
    const executeMutation = mutation(() =>
      fromValue({
        data: {
          setPresence: {
            __typename: 'SetPresencePayload',
            agent: null,
            userErrors: [{ __typename: 'UserError', code: 'WRONG_STATE', message: 'Finish wrap-up first.' }],
          },
        },
      }),
    );
    renderSwitch(executeMutation);

    await userEvent.click(screen.getByRole('radio', { name: 'Ready' }));

    expect(await screen.findByText('Finish wrap-up first.')).toBeTruthy();
    // The server's state stays shown.
    expect(screen.getByRole('radio', { name: 'Not Ready' })).toHaveProperty('checked', true);
  });
});
