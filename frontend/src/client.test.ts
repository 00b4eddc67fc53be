import { gql } from '@urql/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenStore } from './auth/tokenStore';
import { createAgentClient } from './client';
import { FakeSocket } from './testing/fakeSocket';

const MeQuery = gql`
  query TestMe {
    me {
      id
      name
    }
  }
`;

const OffersSubscription = gql`
  subscription TestOffers {
    offers {
      kind
    }
  }
`;

function jsonResponse(body: unknown) {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
  });
}

afterEach(() => {
  FakeSocket.instances = [];
});

describe('createAgentClient over HTTP', () => {
  it('sends the token the store holds at request time', async () => {
    const tokens = createTokenStore(window.localStorage);
    const fetch = vi.fn<typeof globalThis.fetch>(async () =>
      jsonResponse({ data: { me: { __typename: 'Agent', id: 'A1', name: 'Alice' } } }),
    );
    const { client } = createAgentClient({ tokens, url: 'http://test/query', fetch });
    tokens.set('fresh-token');

    const result = await client.query(MeQuery, {}).toPromise();

    expect(result.data.me.name).toBe('Alice');
    const init = fetch.mock.calls[0]![1]!;
    expect(new Headers(init.headers).get('Authorization')).toBe('Bearer fresh-token');
  });

  it('sends no Authorization header without a token', async () => {
    const tokens = createTokenStore(window.localStorage);
    const fetch = vi.fn<typeof globalThis.fetch>(async () => jsonResponse({ data: { me: null } }));
    const { client } = createAgentClient({ tokens, url: 'http://test/query', fetch });

    await client.query(MeQuery, {}).toPromise();

    const init = fetch.mock.calls[0]![1]!;
    expect(new Headers(init.headers).has('Authorization')).toBe(false);
  });

  it('drops the token when the server answers UNAUTHENTICATED', async () => {
    const tokens = createTokenStore(window.localStorage);
    tokens.set('stale-token');
    const fetch = vi.fn<typeof globalThis.fetch>(async () =>
      jsonResponse({
        data: { me: null },
        errors: [{ message: 'sign in first', path: ['me'], extensions: { code: 'UNAUTHENTICATED' } }],
      }),
    );
    const { client } = createAgentClient({ tokens, url: 'http://test/query', fetch });

    await client.query(MeQuery, {}).toPromise();

    expect(tokens.get()).toBeNull();
  });

  it('keeps the token on other errors', async () => {
    const tokens = createTokenStore(window.localStorage);
    tokens.set('good-token');
    const fetch = vi.fn<typeof globalThis.fetch>(async () =>
      jsonResponse({ data: null, errors: [{ message: 'oops', extensions: { code: 'INTERNAL' } }] }),
    );
    const { client } = createAgentClient({ tokens, url: 'http://test/query', fetch });

    await client.query(MeQuery, {}).toPromise();

    expect(tokens.get()).toBe('good-token');
  });
});

describe('createAgentClient over the websocket', () => {
  it('reads the token when connecting and drops it when the server closes with 4403', async () => {
    const tokens = createTokenStore(window.localStorage);
    tokens.set('old-token');
    const { client, dispose } = createAgentClient({
      tokens,
      url: 'http://test/query',
      wsUrl: 'ws://test/query',
      webSocketImpl: FakeSocket,
      fetch: vi.fn(),
    });
    tokens.set('new-token'); // e.g. signed in again after the client was made

    const results: unknown[] = [];
    const { unsubscribe } = client.subscription(OffersSubscription, {}).subscribe((r) => results.push(r));

    await vi.waitFor(() => expect(FakeSocket.instances[0]?.sent[0]).toBeDefined());
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toBe('ws://test/query');
    expect(socket.protocol).toBe('graphql-transport-ws');
    expect(socket.sent[0]).toEqual({
      type: 'connection_init',
      payload: { Authorization: 'Bearer new-token' },
    });

    socket.close(4403, 'Forbidden');

    expect(tokens.get()).toBeNull();
    await vi.waitFor(() => expect(results).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(FakeSocket.instances).toHaveLength(1); // no reconnect with a refused token
    unsubscribe();
    dispose();
  });

  it('keeps the token when the socket closes for other reasons', async () => {
    const tokens = createTokenStore(window.localStorage);
    tokens.set('token');
    const { client, dispose } = createAgentClient({
      tokens,
      wsUrl: 'ws://test/query',
      webSocketImpl: FakeSocket,
      fetch: vi.fn(),
    });
    const { unsubscribe } = client.subscription(OffersSubscription, {}).subscribe(() => {});
    await vi.waitFor(() => expect(FakeSocket.instances[0]?.sent[0]).toBeDefined());

    FakeSocket.instances[0]!.close(1011, 'Internal error');

    expect(tokens.get()).toBe('token');
    unsubscribe();
    dispose();
  });
});
