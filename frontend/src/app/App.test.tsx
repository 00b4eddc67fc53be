import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { createTokenStore } from '../auth/tokenStore';
import { AckingSocket } from '../testing/fakeBackend';
import { App } from './App';

type Handler = (operationName: string, authorization: string | null) => unknown;

/** Stubs the global fetch as a GraphQL server answering by operation name. */
function stubServer(handler: Handler) {
  const calls: { operationName: string; authorization: string | null }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      const { operationName } = JSON.parse(init.body as string) as { operationName: string };
      const authorization = new Headers(init.headers).get('Authorization');
      calls.push({ operationName, authorization });
      return new Response(JSON.stringify(handler(operationName, authorization)), {
        headers: { 'Content-Type': 'application/json' },
      });
    }),
  );
  return calls;
}

const alice = {
  __typename: 'Agent',
  id: 'A1',
  name: 'Alice Martin',
  role: 'AGENT',
  presence: 'NOT_READY',
  capacity: [{ __typename: 'ChannelCapacity', channel: 'WEBCHAT', max: 4, used: 0 }],
};

describe('App', () => {
  it('signs in, shows the agent and signs out again', async () => {
    vi.stubGlobal('WebSocket', AckingSocket);
    const calls = stubServer((operationName) => {
      switch (operationName) {
        case 'Login':
          return {
            data: {
              login: {
                __typename: 'LoginPayload',
                token: 'tok-1',
                agent: { __typename: 'Agent', id: 'A1', name: 'Alice Martin' },
                userErrors: [],
              },
            },
          };
        case 'Shell':
          return { data: { me: alice } };
        case 'MyInteractions':
          return { data: { myInteractions: [] } };
        case 'Logout':
          return { data: { logout: true } };
      }
    });
    const tokens = createTokenStore(window.localStorage);
    render(<App tokens={tokens} />);
    const user = userEvent.setup();

    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'demo');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByText('Alice Martin')).toBeTruthy();
    expect(await screen.findByText('No conversations yet.')).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Capacity in use' }).textContent).toContain('Chat 0/4');
    expect(screen.getByRole('radio', { name: 'Not Ready' })).toHaveProperty('checked', true);
    expect(calls.find((c) => c.operationName === 'Shell')?.authorization).toBe('Bearer tok-1');

    await user.click(screen.getByRole('button', { name: 'Sign out' }));

    expect(await screen.findByRole('heading', { name: 'Sign in to agentdesk' })).toBeTruthy();
    expect(calls.find((c) => c.operationName === 'Logout')?.authorization).toBe('Bearer tok-1');
    expect(tokens.get()).toBeNull();
  });

  it('returns to sign-in when the server no longer accepts the stored token', async () => {
    stubServer(() => ({
      data: { me: null },
      errors: [{ message: 'not signed in', path: ['me'], extensions: { code: 'UNAUTHENTICATED' } }],
    }));
    const tokens = createTokenStore(window.localStorage);
    tokens.set('revoked');
    render(<App tokens={tokens} />);

    expect(await screen.findByRole('heading', { name: 'Sign in to agentdesk' })).toBeTruthy();
    expect(tokens.get()).toBeNull();
  });
});
