import type { Client, GraphQLRequest } from '@urql/core';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { describe, expect, it, vi } from 'vitest';
import { fromValue, type Source } from 'wonka';
import { SignIn } from './SignIn';
import { createTokenStore } from './tokenStore';

function renderSignIn(result: unknown) {
  const tokens = createTokenStore(window.localStorage);
  const executeMutation = vi.fn<(request: GraphQLRequest) => Source<unknown>>(() =>
    fromValue(result),
  );
  render(
    <Provider value={{ executeMutation } as unknown as Client}>
      <SignIn tokens={tokens} />
    </Provider>,
  );
  return { tokens, executeMutation };
}

async function fillAndSubmit(username: string, password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Username'), username);
  await user.type(screen.getByLabelText('Password'), password);
  await user.keyboard('{Enter}');
}

describe('SignIn', () => {
  it('stores the token on success', async () => {
    const { tokens, executeMutation } = renderSignIn({
      data: {
        login: {
          __typename: 'LoginPayload',
          token: 'tok-1',
          agent: { __typename: 'Agent', id: 'A1', name: 'Alice Martin' },
          userErrors: [],
        },
      },
    });

    await fillAndSubmit(' alice ', 'demo');

    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { username: 'alice', password: 'demo' },
    });
    expect(tokens.get()).toBe('tok-1');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('explains a wrong password', async () => {
    const { tokens } = renderSignIn({
      data: {
        login: {
          __typename: 'LoginPayload',
          token: null,
          agent: null,
          userErrors: [
            { __typename: 'UserError', code: 'INVALID_CREDENTIALS', message: 'invalid credentials' },
          ],
        },
      },
    });

    await fillAndSubmit('alice', 'wrong');

    expect((await screen.findByRole('alert')).textContent).toBe(
      'Wrong username or password. Check both and try again.',
    );
    expect(tokens.get()).toBeNull();
  });

  it('shows the message of other user errors as the server wrote it', async () => {
    renderSignIn({
      data: {
        login: {
          __typename: 'LoginPayload',
          token: null,
          agent: null,
          userErrors: [{ __typename: 'UserError', code: 'INVALID', message: 'Username is required.' }],
        },
      },
    });

    await fillAndSubmit('x', 'y');

    expect((await screen.findByRole('alert')).textContent).toBe('Username is required.');
  });
});
