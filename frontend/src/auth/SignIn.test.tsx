import type { Client, GraphQLRequest } from '@urql/core';
import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
  it('says why the server ended the last session, once', () => {
    const tokens = createTokenStore(window.localStorage);
    tokens.set('old');
    tokens.clear('the password was changed: sign in again');
    const view = render(
      <Provider value={{} as unknown as Client}>
        <SignIn tokens={tokens} />
      </Provider>,
    );
    expect(screen.getByRole('status').textContent).toBe(
      'You were signed out: the password was changed: sign in again.',
    );
    view.unmount();
    tokens.set('new');
    render(
      <Provider value={{} as unknown as Client}>
        <SignIn tokens={tokens} />
      </Provider>,
    );
    expect(screen.queryByRole('status')).toBeNull();
  });

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

  describe('when the server throttles sign-ins', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    function refused(wait: number | null) {
      return {
        data: {
          login: {
            __typename: 'LoginPayload',
            token: null,
            agent: null,
            userErrors: [
              {
                __typename: 'UserError',
                code: 'TOO_MANY_ATTEMPTS',
                message: 'Too many failed sign-ins: try again in 8 seconds.',
              },
            ],
            retryAfterSeconds: wait,
          },
        },
      };
    }

    it('explains the wait, counts it down and gives the button back when it ends', async () => {
      // The countdown's clock is fake; typing and React's own timers run on real time.
      vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
      const { executeMutation } = renderSignIn(refused(8));

      await fillAndSubmit('alice', 'demo');

      expect((await screen.findByRole('alert')).textContent).toBe(
        'Too many failed sign-ins. For your security, signing in is paused for 8 s.',
      );
      const button = screen.getByRole('button') as HTMLButtonElement;
      expect(button.disabled).toBe(true);
      expect(button.textContent).toBe('Try again in 0:08');

      await act(async () => {
        vi.advanceTimersByTime(5000);
      });
      expect(screen.getByRole('button').textContent).toBe('Try again in 0:03');
      expect((screen.getByRole('button') as HTMLButtonElement).disabled).toBe(true);

      await act(async () => {
        vi.advanceTimersByTime(3000);
      });
      const again = screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement;
      expect(again.disabled).toBe(false);
      expect(screen.queryByRole('alert')).toBeNull();
      expect(screen.getByRole('status').textContent).toBe('You can try again now.');
      expect(executeMutation).toHaveBeenCalledTimes(1);
    });

    it("shows the server's message when it gives no wait", async () => {
      renderSignIn(refused(null));

      await fillAndSubmit('alice', 'demo');

      expect((await screen.findByRole('alert')).textContent).toBe(
        'Too many failed sign-ins: try again in 8 seconds.',
      );
      expect((screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement).disabled).toBe(false);
    });
  });
});
