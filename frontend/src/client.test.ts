import { gql } from '@urql/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenStore } from './auth/tokenStore';
import { createAgentClient } from './client';
import { AckingSocket } from './testing/fakeBackend';
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

describe('createAgentClient connection status', () => {
  it('reports a drop and the reconnection, and tells listeners it came back after a drop', async () => {
    const tokens = createTokenStore(window.localStorage);
    tokens.set('token');
    const { client, connection, dispose } = createAgentClient({
      tokens,
      wsUrl: 'ws://test/query',
      webSocketImpl: AckingSocket,
      fetch: vi.fn(),
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 5)),
    });
    const statuses: string[] = [];
    connection.subscribe(() => statuses.push(connection.status()));
    const connected: boolean[] = [];
    connection.onConnected((afterDrop) => connected.push(afterDrop));
    expect(connection.status()).toBe('idle');

    const { unsubscribe } = client.subscription(OffersSubscription, {}).subscribe(() => {});
    await vi.waitFor(() => expect(connection.status()).toBe('connected'));
    expect(connected).toEqual([false]);

    FakeSocket.instances[0]!.close(1006, 'gone');
    expect(connection.status()).toBe('reconnecting');

    await vi.waitFor(() => expect(connection.status()).toBe('connected'));
    expect(connected).toEqual([false, true]);
    expect(statuses).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    // graphql-ws subscribed again on the new socket.
    await vi.waitFor(() =>
      expect(FakeSocket.instances[1]!.sent.some((m) => m.type === 'subscribe')).toBe(true),
    );

    // Closing because nothing needs the socket any more is not a drop.
    unsubscribe();
    await vi.waitFor(() => expect(connection.status()).toBe('idle'));
    dispose();
  });

  it('treats a missing pong as a drop', async () => {
    vi.useFakeTimers();
    try {
      const tokens = createTokenStore(window.localStorage);
      tokens.set('token');
      const { client, connection, dispose } = createAgentClient({
        tokens,
        wsUrl: 'ws://test/query',
        webSocketImpl: AckingSocket,
        fetch: vi.fn(),
        retryWait: () => new Promise(() => {}),
      });
      client.subscription(OffersSubscription, {}).subscribe(() => {});
      await vi.advanceTimersByTimeAsync(10);
      expect(connection.status()).toBe('connected');

      await vi.advanceTimersByTimeAsync(20_000); // keep-alive ping sent, no pong
      expect(FakeSocket.instances[0]!.sent.at(-1)).toEqual({ type: 'ping' });
      expect(connection.status()).toBe('connected');
      await vi.advanceTimersByTimeAsync(5_000);
      expect(connection.status()).toBe('reconnecting');
      dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});
