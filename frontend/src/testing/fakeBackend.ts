import { vi } from 'vitest';
import { createTokenStore } from '../auth/tokenStore';
import { createAgentClient, type AgentClient } from '../client';
import { FakeSocket, serverSends } from './fakeSocket';

type Handler = (variables: Record<string, unknown>) => unknown;

/** An answer with top-level errors (e.g. FORBIDDEN, NOT_FOUND) instead of data. */
export class GraphQLErrors {
  constructor(readonly body: { data: unknown; errors: { message: string; extensions?: { code: string } }[] }) {}
}

export function graphQLError(code: string, message: string, data: unknown = null) {
  return new GraphQLErrors({ data, errors: [{ message, extensions: { code } }] });
}

/** A socket whose server acknowledges connection_init at once. */
export class AckingSocket extends FakeSocket {
  override send(data: string) {
    super.send(data);
    const message = JSON.parse(data) as { type: string };
    if (message.type === 'connection_init') {
      setTimeout(() => serverSends(this, { type: 'connection_ack' }));
    }
  }
}

export interface FakeBackend extends AgentClient {
  /** Every HTTP operation, in order. */
  calls: { operationName: string; variables: Record<string, unknown> }[];
  /** Operation names sent over HTTP so far. */
  names(): string[];
  /** Replaces or adds answers by operation name. */
  answer(handlers: Record<string, Handler>): void;
  /** Delivers a subscription event to every open subscription of that operation name. */
  emit(operationName: string, data: unknown): void;
  /** The currently open socket. */
  socket(): AckingSocket;
  /** Open subscriptions (by operation name) on the current socket. */
  subscriptions(operationName?: string): { id: string; operationName: string; variables: unknown }[];
}

/** The desk's feeds by their own operation names: the feed's field and DeskEvent's. */
const deskFields: Record<string, { feed: string; field: string }> = {
  Offers: { feed: 'offers', field: 'offer' },
  InteractionUpdates: { feed: 'interactionUpdates', field: 'interactionUpdate' },
  UnparkNotifications: { feed: 'unparkNotifications', field: 'unpark' },
  TransferResults: { feed: 'transferResults', field: 'transferResult' },
  DeliveryUpdates: { feed: 'deliveryUpdates', field: 'deliveryUpdate' },
};

/**
 * The real agent client (graphcache, graphql-ws, cache updaters) against a fake server: HTTP
 * operations are answered by `handlers` by operation name, and the websocket is a FakeSocket the
 * test drives. Answers must carry __typename like a real server's.
 */
export function fakeBackend(initial: Record<string, Handler>): FakeBackend {
  FakeSocket.instances = [];
  const handlers: Record<string, Handler> = { ...initial };
  const calls: FakeBackend['calls'] = [];
  const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
    const { operationName, variables = {} } = JSON.parse(init!.body as string) as {
      operationName: string;
      variables?: Record<string, unknown>;
    };
    calls.push({ operationName, variables });
    const handler = handlers[operationName];
    if (!handler) throw new Error(`fake server: no answer for ${operationName}`);
    const answer = await handler(variables); // a handler may hold its answer back (a promise)
    return new Response(JSON.stringify(answer instanceof GraphQLErrors ? answer.body : { data: answer }), {
      headers: { 'Content-Type': 'application/json' },
    });
  });
  const tokens = createTokenStore(window.localStorage);
  tokens.set('token');
  const agentClient = createAgentClient({
    tokens,
    url: 'http://test/query',
    wsUrl: 'ws://test/query',
    webSocketImpl: AckingSocket,
    fetch: fetch as typeof globalThis.fetch,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 5)),
  });

  const socket = () => FakeSocket.instances.at(-1) as AckingSocket;

  const subscriptions = (operationName?: string) => {
    const s = socket();
    if (!s) return [];
    const open = new Map<string, { id: string; operationName: string; variables: unknown }>();
    for (const message of s.sent) {
      if (message.type === 'subscribe' && message.id) {
        const payload = message.payload as { operationName: string; variables: unknown };
        open.set(message.id, { id: message.id, operationName: payload.operationName, variables: payload.variables });
      }
      if (message.type === 'complete' && message.id) open.delete(message.id);
    }
    const all = [...open.values()];
    const named = all.filter((o) => !operationName || o.operationName === operationName);
    // A desk feed is open when the desk's one subscription is (see emit).
    if (named.length === 0 && operationName && deskFields[operationName]) {
      return all.filter((o) => o.operationName === 'DeskEvents');
    }
    return named;
  };

  return {
    ...agentClient,
    calls,
    names: () => calls.map((c) => c.operationName),
    answer: (more) => Object.assign(handlers, more),
    socket,
    subscriptions,
    emit(operationName, data) {
      // The desk follows its five feeds on one subscription, as the server multiplexes them:
      // an event of one feed reaches it with that feed's field set.
      const desk = deskFields[operationName];
      if (desk && subscriptions(operationName).some((o) => o.operationName === 'DeskEvents')) {
        const event = (data as Record<string, unknown>)[desk.feed];
        const fields = Object.fromEntries(Object.values(deskFields).map(({ field }) => [field, null]));
        operationName = 'DeskEvents';
        data = { deskEvents: { __typename: 'DeskEvent', ...fields, [desk.field]: event } };
      }
      const open = subscriptions(operationName);
      if (open.length === 0) throw new Error(`no open ${operationName} subscription`);
      for (const { id } of open) serverSends(socket(), { id, type: 'next', payload: { data } });
    },
  };
}
