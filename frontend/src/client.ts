import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { isForbiddenClose, isUnauthenticated, signedOutReason } from './auth/authFailure';
import type { TokenStore } from './auth/tokenStore';
import { cacheConfig, resetDeliveryFloor } from './cache';
import { createConnectionMonitor, type Connection } from './connection/connection';
import { websocketUrl } from './websocketUrl';

/** How often the client pings the server, and how long it waits for the pong. */
const KEEP_ALIVE_MS = 20_000;
const PONG_TIMEOUT_MS = 5_000;

/** Waits before the next reconnection attempt: 0.5–1 s, doubling up to 5–10 s, with jitter. */
export async function reconnectDelay(retries: number): Promise<void> {
  const ceiling = Math.min(1000 * 2 ** retries, 10_000);
  await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + (Math.random() * ceiling) / 2));
}

export interface AgentClientOptions {
  tokens: TokenStore;
  /** HTTP endpoint; defaults to /query on this origin (Vite proxies it in development). */
  url?: string;
  /** Websocket endpoint; defaults to ws(s)://this host/query. */
  wsUrl?: string;
  /** Websocket implementation for environments without a global WebSocket (Node tests). */
  webSocketImpl?: unknown;
  /** fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
  /** Wait before each reconnection attempt; tests shorten it. */
  retryWait?: (retries: number) => Promise<void>;
}

export interface AgentClient {
  client: Client;
  /** The websocket's status and reconnections, for the banner and resyncs. */
  connection: Connection;
  /** Closes the websocket, if one was opened. */
  dispose(): void;
}

function authorization(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * Builds the urql client for one session (signed in or not). The token is read on every request
 * and on every websocket connection_init, never captured, so what the store holds is what is sent.
 * A request the server refuses as UNAUTHENTICATED, or a websocket closed with 4403, drops the
 * token, which sends the app back to the sign-in screen.
 *
 * A socket that drops for any other reason is reopened for as long as subscriptions are open
 * (graphql-ws resubscribes them); a ping without a pong counts as a drop, so a dead network is
 * noticed even when the browser keeps the socket "open". The returned `connection` reports all of
 * it so screens can show a banner and re-query what they missed.
 */
export function createAgentClient({
  tokens,
  url = '/query',
  wsUrl = websocketUrl(window.location, '/query'),
  webSocketImpl,
  fetch,
  retryWait = reconnectDelay,
}: AgentClientOptions): AgentClient {
  const signOut = (reason?: string) => tokens.clear(reason);
  const monitor = createConnectionMonitor();
  let openSubscriptions = 0;
  let disposed = false;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;

  let ws: WsClient | null = null;
  // Created on the first subscription so signing in alone opens no socket.
  const socket = () =>
    (ws ??= createWsClient({
      url: wsUrl,
      webSocketImpl,
      lazy: true,
      keepAlive: KEEP_ALIVE_MS,
      retryAttempts: Infinity,
      retryWait,
      connectionParams: () => authorization(tokens.get()),
      // graphql-ws retries 4403 by default; a refused token will not get better by retrying.
      // Anything else (a close, or an error event when the server is unreachable) is retried.
      shouldRetry: (event) => !isForbiddenClose(event),
      on: {
        connecting: () => monitor.connecting(),
        connected: () => monitor.connected(),
        ping: (received) => {
          if (received) return;
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => ws?.terminate(), PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: (event) => {
          clearTimeout(pongTimer);
          const forbidden = isForbiddenClose(event);
          if (forbidden) signOut(signedOutReason(event) ?? undefined);
          monitor.closed(forbidden || disposed || openSubscriptions === 0);
        },
      },
    }));

  resetDeliveryFloor(); // a new client is a new cache
  const client = new Client({
    url,
    fetch,
    // urql would send short queries as GET; POST keeps every operation out of URLs and logs.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: authorization(tokens.get()) }),
    exchanges: [
      cacheExchange(cacheConfig),
      mapExchange({
        onResult(result) {
          if (isUnauthenticated(result.error)) signOut();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              // Counted so a close while none is open (graphql-ws' lazy close) is not a drop.
              let open = true;
              openSubscriptions++;
              const release = () => {
                if (open) openSubscriptions--;
                open = false;
              };
              const stop = socket().subscribe(input, {
                next: (value) => sink.next(value as Parameters<typeof sink.next>[0]),
                error: (error) => {
                  release();
                  sink.error(error);
                },
                complete: () => {
                  release();
                  sink.complete();
                },
              });
              return {
                unsubscribe() {
                  release();
                  stop();
                },
              };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    connection: monitor,
    dispose() {
      disposed = true;
      clearTimeout(pongTimer);
      void ws?.dispose();
      ws = null;
    },
  };
}
