import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, serverSends } from '../testing/fakeSocket';
import { postOperation, subscribeOperation } from './transport';

afterEach(() => {
  FakeSocket.instances = [];
});

describe('postOperation', () => {
  it('POSTs the request as JSON with the given headers', async () => {
    const fetch = vi.fn(
      async () => new Response('{"data":{"me":null}}', { status: 200 }),
    );
    const result = await postOperation(
      '/query',
      { query: '{ me { name } }' },
      { Authorization: 'Bearer t' },
      fetch,
    );
    expect(result).toMatchObject({ status: 200, body: { data: { me: null } } });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/query');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body as string)).toEqual({ query: '{ me { name } }' });
    const headers = new Headers(init.headers);
    expect(headers.get('Authorization')).toBe('Bearer t');
    expect(headers.get('Content-Type')).toBe('application/json');
  });

  it('returns a body that is not JSON as text', async () => {
    const fetch = vi.fn(async () => new Response('Bad Gateway', { status: 502 }));
    expect(await postOperation('/query', { query: '{ a }' }, {}, fetch)).toMatchObject({
      status: 502,
      body: 'Bad Gateway',
    });
  });
});

describe('subscribeOperation', () => {
  function start() {
    const handlers = {
      onConnected: vi.fn(),
      onEvent: vi.fn(),
      onError: vi.fn(),
      onComplete: vi.fn(),
    };
    const stop = subscribeOperation(
      'ws://host/query',
      { query: 'subscription { offers { kind } }' },
      { Authorization: 'Bearer t' },
      handlers,
      FakeSocket,
    );
    return { handlers, stop };
  }

  it('sends the headers as connection_init payload and streams events', async () => {
    const { handlers, stop } = start();
    await vi.waitFor(() => expect(FakeSocket.instances[0]?.sent[0]).toBeDefined());
    const socket = FakeSocket.instances[0]!;
    expect(socket.sent[0]).toEqual({
      type: 'connection_init',
      payload: { Authorization: 'Bearer t' },
    });

    serverSends(socket, { type: 'connection_ack' });
    await vi.waitFor(() => expect(handlers.onConnected).toHaveBeenCalled());
    await vi.waitFor(() => expect(socket.sent[1]?.type).toBe('subscribe'));
    const id = socket.sent[1]!.id;
    serverSends(socket, { type: 'next', id, payload: { data: { offers: { kind: 'OFFERED' } } } });
    expect(handlers.onEvent).toHaveBeenCalledWith({ data: { offers: { kind: 'OFFERED' } } });

    stop();
    expect(socket.sent.at(-1)).toEqual({ type: 'complete', id });
    expect(handlers.onComplete).not.toHaveBeenCalled();
    expect(handlers.onError).not.toHaveBeenCalled();
  });

  it('reports a refused connection without retrying', async () => {
    const { handlers } = start();
    await vi.waitFor(() => expect(FakeSocket.instances[0]?.sent[0]).toBeDefined());

    FakeSocket.instances[0]!.close(4403, 'Forbidden');

    await vi.waitFor(() => expect(handlers.onError).toHaveBeenCalled());
    expect(handlers.onError.mock.calls[0]![0]).toMatchObject({ code: 4403 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('reports GraphQL errors of the subscription', async () => {
    const { handlers } = start();
    await vi.waitFor(() => expect(FakeSocket.instances[0]?.sent[0]).toBeDefined());
    const socket = FakeSocket.instances[0]!;
    serverSends(socket, { type: 'connection_ack' });
    await vi.waitFor(() => expect(socket.sent[1]?.type).toBe('subscribe'));

    const errors = [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }];
    serverSends(socket, { type: 'error', id: socket.sent[1]!.id, payload: errors });

    expect(handlers.onError).toHaveBeenCalledWith(errors);
  });
});
