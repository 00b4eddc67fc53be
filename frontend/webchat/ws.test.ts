import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, serverSends } from '../src/testing/fakeSocket';
import { createWsClient, type WsOptions } from './ws';

const Socket = FakeSocket as unknown as WsOptions['WebSocket'];
const QUERY = 'subscription ($id: ID!) { messages(interactionId: $id) { id } }';

function sink() {
  return { next: vi.fn(), error: vi.fn(), complete: vi.fn() };
}

/** Lets the fake socket open (on a zero timeout, which fake timers run 1 ms later when set in a timer). */
const opened = () => vi.advanceTimersByTimeAsync(1);
const last = () => FakeSocket.instances.at(-1)!;

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.instances = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createWsClient', () => {
  it('connects lazily, on the first subscription, with the subprotocol and the token', async () => {
    const client = createWsClient({ url: 'ws://desk/query', params: () => ({ Authorization: 'Bearer t1' }), WebSocket: Socket });
    expect(FakeSocket.instances).toHaveLength(0);
    client.subscribe(QUERY, { id: 'c1' }, sink());
    await opened();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(last().url).toBe('ws://desk/query');
    expect(last().protocol).toBe('graphql-transport-ws');
    expect(last().sent).toEqual([{ type: 'connection_init', payload: { Authorization: 'Bearer t1' } }]);
  });

  it('subscribes after connection_ack, delivers next, answers ping with pong', async () => {
    const onConnected = vi.fn();
    const client = createWsClient({ url: 'ws://x', params: () => ({}), WebSocket: Socket, onConnected });
    const s = sink();
    client.subscribe(QUERY, { id: 'c1' }, s);
    await opened();
    const socket = last();
    serverSends(socket, { type: 'connection_ack' });
    expect(onConnected).toHaveBeenCalledWith(false);
    expect(socket.sent[1]).toEqual({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { id: 'c1' } } });

    serverSends(socket, { type: 'next', id: '1', payload: { data: { messages: { id: 'm1' } } } });
    expect(s.next).toHaveBeenCalledWith({ data: { messages: { id: 'm1' } } });

    serverSends(socket, { type: 'ping' });
    expect(socket.sent.at(-1)).toEqual({ type: 'pong' });

    // A subscription made once connected goes out at once.
    client.subscribe(QUERY, { id: 'c2' }, sink());
    expect(socket.sent.at(-1)).toMatchObject({ id: '2', type: 'subscribe' });
  });

  it('ends a subscription on the server’s complete or error, and ignores unknown ids', async () => {
    const client = createWsClient({ url: 'ws://x', params: () => ({}), WebSocket: Socket });
    const a = sink();
    const b = sink();
    client.subscribe(QUERY, { id: 'a' }, a);
    client.subscribe(QUERY, { id: 'b' }, b);
    await opened();
    serverSends(last(), { type: 'connection_ack' });
    serverSends(last(), { type: 'complete', id: '1' });
    serverSends(last(), { type: 'error', id: '2', payload: [{ message: 'no such chat' }] });
    serverSends(last(), { type: 'next', id: '1', payload: {} });
    serverSends(last(), { type: 'next', id: '99', payload: {} });
    expect(a.complete).toHaveBeenCalledOnce();
    expect(a.next).not.toHaveBeenCalled();
    expect(b.error).toHaveBeenCalledWith([{ message: 'no such chat' }]);

    // Neither is re-sent after a reconnect.
    last().close(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    serverSends(last(), { type: 'connection_ack' });
    expect(last().sent.filter((m) => m.type === 'subscribe')).toEqual([]);
  });

  it('sends complete when the caller unsubscribes', async () => {
    const client = createWsClient({ url: 'ws://x', params: () => ({}), WebSocket: Socket });
    const unsubscribe = client.subscribe(QUERY, {}, sink());
    await opened();
    serverSends(last(), { type: 'connection_ack' });
    unsubscribe();
    unsubscribe();
    expect(last().sent.filter((m) => m.type === 'complete')).toEqual([{ id: '1', type: 'complete' }]);
  });

  it('reconnects after a drop with backoff, a fresh connection_init, and the same subscriptions', async () => {
    let token = 'first';
    const onConnected = vi.fn();
    const onDropped = vi.fn();
    const retryDelay = vi.fn((attempt: number) => 1000 * (attempt + 1));
    const client = createWsClient({
      url: 'ws://x',
      params: () => ({ Authorization: `Bearer ${token}` }),
      WebSocket: Socket,
      onConnected,
      onDropped,
      retryDelay,
    });
    const s = sink();
    client.subscribe(QUERY, { id: 'c1' }, s);
    await opened();
    serverSends(last(), { type: 'connection_ack' });

    token = 'second';
    last().close(1006);
    expect(onDropped).toHaveBeenCalledWith(1006);
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await opened();
    expect(last().sent).toEqual([{ type: 'connection_init', payload: { Authorization: 'Bearer second' } }]);
    expect(FakeSocket.instances).toHaveLength(2);
    // A failed attempt waits longer.
    last().close(1006);
    expect(retryDelay).toHaveBeenLastCalledWith(1);
    await vi.advanceTimersByTimeAsync(2000);
    await opened();
    expect(FakeSocket.instances).toHaveLength(3);

    const socket = last();
    expect(socket.sent).toEqual([{ type: 'connection_init', payload: { Authorization: 'Bearer second' } }]);
    serverSends(socket, { type: 'connection_ack' });
    expect(onConnected).toHaveBeenLastCalledWith(true);
    expect(socket.sent[1]).toEqual({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { id: 'c1' } } });
    serverSends(socket, { type: 'next', id: '1', payload: { data: 1 } });
    expect(s.next).toHaveBeenCalledWith({ data: 1 });
    // The backoff starts again after a successful connection.
    socket.close(1001);
    expect(retryDelay).toHaveBeenLastCalledWith(0);
  });

  it('closes a connection that sends something other than JSON', async () => {
    const client = createWsClient({ url: 'ws://x', params: () => ({}), WebSocket: Socket, retryDelay: () => 10 });
    const close = vi.spyOn(FakeSocket.prototype, 'close');
    client.subscribe(QUERY, {}, sink());
    await opened();
    last().onmessage?.({ data: 'not json' });
    expect(close).toHaveBeenCalledWith(4400, 'Invalid message');
  });

  it('stays closed once disposed', async () => {
    const onDropped = vi.fn();
    const client = createWsClient({ url: 'ws://x', params: () => ({}), WebSocket: Socket, onDropped, retryDelay: () => 10 });
    client.subscribe(QUERY, {}, sink());
    await opened();
    serverSends(last(), { type: 'connection_ack' });
    client.dispose();
    expect(last().readyState).toBe(FakeSocket.CLOSED);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(onDropped).not.toHaveBeenCalled();
    client.subscribe(QUERY, {}, sink());
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('cancels a pending retry when disposed', async () => {
    const client = createWsClient({ url: 'ws://x', params: () => ({}), WebSocket: Socket, retryDelay: () => 100 });
    client.subscribe(QUERY, {}, sink());
    await opened();
    last().close(1006);
    client.dispose();
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});
