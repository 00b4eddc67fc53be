// A minimal graphql-transport-ws client (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md):
// connection_init with the token, subscribe/next/error/complete, ping→pong, and reconnection
// with capped exponential backoff. Subscriptions are re-sent after every connection_ack.
// Written here rather than importing graphql-ws to keep the widget bundle small.

export interface Sink {
  next(data: unknown): void;
  error(errors: unknown): void;
  complete(): void;
}

/** What the client needs of a WebSocket: the browser's, or a fake in tests. */
export interface SocketLike {
  readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: string }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface WsOptions {
  url: string;
  /** The connection_init payload, read at every (re)connection. */
  params: () => Record<string, unknown>;
  /** After every connection_ack; `reconnected` is false the first time only. */
  onConnected?: (reconnected: boolean) => void;
  /** When the socket closes unexpectedly (a retry follows). */
  onDropped?: (code: number) => void;
  /** Milliseconds to wait before retry number `attempt` (0-based). */
  retryDelay?: (attempt: number) => number;
  WebSocket?: new (url: string, protocol: string) => SocketLike;
}

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

export function backoff(attempt: number) {
  return Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
}

export function createWsClient(options: WsOptions) {
  const Socket = options.WebSocket ?? (WebSocket as unknown as NonNullable<WsOptions['WebSocket']>);
  const subscriptions = new Map<string, { payload: unknown; sink: Sink }>();
  let socket: SocketLike | undefined;
  let acknowledged = false;
  let connectedBefore = false;
  let attempt = 0;
  let nextId = 0;
  let disposed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const send = (message: Message) => socket?.send(JSON.stringify(message));

  function open() {
    timer = undefined;
    const ws = new Socket(options.url, 'graphql-transport-ws');
    socket = ws;
    acknowledged = false;
    ws.onopen = () => send({ type: 'connection_init', payload: options.params() });
    ws.onmessage = (event) => {
      let message: Message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return ws.close(4400, 'Invalid message');
      }
      const subscription = message.id === undefined ? undefined : subscriptions.get(message.id);
      switch (message.type) {
        case 'connection_ack':
          acknowledged = true;
          attempt = 0;
          for (const [id, { payload }] of subscriptions) send({ id, type: 'subscribe', payload });
          options.onConnected?.(connectedBefore);
          connectedBefore = true;
          break;
        case 'ping':
          send({ type: 'pong', payload: message.payload });
          break;
        case 'next':
          subscription?.sink.next(message.payload);
          break;
        case 'error':
        case 'complete':
          if (!subscription) break;
          subscriptions.delete(message.id as string);
          if (message.type === 'error') subscription.sink.error(message.payload);
          else subscription.sink.complete();
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = undefined;
      acknowledged = false;
      if (disposed) return;
      options.onDropped?.(event.code);
      timer = setTimeout(open, (options.retryDelay ?? backoff)(attempt++));
    };
  }

  return {
    /** Starts a subscription (connecting if needed); returns its unsubscribe function. */
    subscribe(query: string, variables: Record<string, unknown>, sink: Sink) {
      const id = String(++nextId);
      const payload = { query, variables };
      subscriptions.set(id, { payload, sink });
      if (acknowledged) send({ id, type: 'subscribe', payload });
      else if (!socket && !timer && !disposed) open();
      return () => {
        if (subscriptions.delete(id) && acknowledged) send({ id, type: 'complete' });
      };
    },
    /** Closes the socket for good. */
    dispose() {
      disposed = true;
      clearTimeout(timer);
      subscriptions.clear();
      socket?.close(1000, 'Normal Closure');
      socket = undefined;
    },
  };
}

export type WsClient = ReturnType<typeof createWsClient>;
