import { createClient, type Client } from 'graphql-ws';

export interface OperationRequest {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

export interface HttpResult {
  status: number;
  /** The parsed JSON body, or the raw text when the body is not JSON. */
  body: unknown;
  ms: number;
}

/** Sends a query or mutation as a GraphQL-over-HTTP POST. */
export async function postOperation(
  url: string,
  request: OperationRequest,
  headers: Record<string, string>,
  fetchImpl: typeof fetch = fetch,
): Promise<HttpResult> {
  const started = performance.now();
  const response = await fetchImpl(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json;q=0.9',
      ...headers,
    },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. a proxy's error page): show the text as it came
  }
  return { status: response.status, body, ms: Math.round(performance.now() - started) };
}

export interface SubscriptionHandlers {
  onConnected(): void;
  onEvent(payload: unknown): void;
  /** GraphQL errors, a close event or an exception; the subscription is over. */
  onError(error: unknown): void;
  onComplete(): void;
}

/**
 * Runs one subscription over graphql-ws on its own connection, so the connection_init carries
 * the headers as they are now. No retries: the playground shows what the server did.
 * Returns a function that stops the subscription and closes the socket.
 */
export function subscribeOperation(
  url: string,
  request: OperationRequest,
  connectionParams: Record<string, string>,
  handlers: SubscriptionHandlers,
  webSocketImpl?: unknown,
): () => void {
  let finished = false;
  const client: Client = createClient({
    url,
    webSocketImpl,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: { connected: () => handlers.onConnected() },
  });
  const unsubscribe = client.subscribe(
    { ...request, query: request.query },
    {
      next: (payload) => handlers.onEvent(payload),
      error: (error) => {
        finished = true;
        handlers.onError(error);
        void client.dispose();
      },
      complete: () => {
        if (!finished) handlers.onComplete();
        finished = true;
        void client.dispose();
      },
    },
  );
  return () => {
    finished = true;
    unsubscribe();
    void client.dispose();
  };
}
