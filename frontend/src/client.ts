import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { isForbiddenClose, isUnauthenticated } from './auth/authFailure';
import type { TokenStore } from './auth/tokenStore';
import { websocketUrl } from './websocketUrl';

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
}

export interface AgentClient {
  client: Client;
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
 */
export function createAgentClient({
  tokens,
  url = '/query',
  wsUrl = websocketUrl(window.location, '/query'),
  webSocketImpl,
  fetch,
}: AgentClientOptions): AgentClient {
  const signOut = () => tokens.clear();

  let ws: WsClient | null = null;
  // Created on the first subscription so signing in alone opens no socket.
  const socket = () =>
    (ws ??= createWsClient({
      url: wsUrl,
      webSocketImpl,
      lazy: true,
      connectionParams: () => authorization(tokens.get()),
      // graphql-ws retries 4403 by default; a refused token will not get better by retrying.
      shouldRetry: (event) => !isForbiddenClose(event),
      on: {
        closed: (event) => {
          if (isForbiddenClose(event)) signOut();
        },
      },
    }));

  const client = new Client({
    url,
    fetch,
    // urql would send short queries as GET; POST keeps every operation out of URLs and logs.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: authorization(tokens.get()) }),
    exchanges: [
      cacheExchange({
        keys: {
          ChannelCapacity: () => null,
          DispositionCode: () => null,
          Contact: () => null,
          UserError: () => null,
          LoginPayload: () => null,
          SetPresencePayload: () => null,
          OfferEvent: () => null,
        },
      }),
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
              const unsubscribe = socket().subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    dispose() {
      void ws?.dispose();
      ws = null;
    },
  };
}
