// Subscriptions over the websocket: graphql-transport-ws (graphql-ws client) and the legacy
// graphql-ws subprotocol of subscriptions-transport-ws (a raw client written here).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { login, startServer } from './server.mjs';

const OFFERS = 'subscription { offers { kind offer { id } } }';
const QUIET_MS = 500;

let server;
let token;
before(async () => {
  server = await startServer();
  token = await login(server, 'alice');
});
after(async () => {
  await server?.stop();
});

/**
 * Subscribes with graphql-ws and collects what happens within `ms`: whether the connection was
 * acknowledged, events, the error (GraphQL errors or a close event) and completion.
 */
async function subscribeFor(connectionParams, ms = QUIET_MS) {
  const seen = { acknowledged: false, events: [], error: undefined, completed: false, closeCode: undefined };
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: {
      connected: () => {
        seen.acknowledged = true;
      },
      closed: (event) => {
        seen.closeCode = event.code;
      },
    },
  });
  let settle;
  const settled = new Promise((resolve) => (settle = resolve));
  const unsubscribe = client.subscribe(
    { query: OFFERS },
    {
      next: (value) => seen.events.push(value),
      error: (error) => {
        seen.error = error;
        settle();
      },
      complete: () => {
        seen.completed = true;
        settle();
      },
    },
  );
  await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, ms))]);
  unsubscribe();
  await client.dispose();
  return seen;
}

test('graphql-transport-ws: a signed-in agent subscribes to offers', async () => {
  const seen = await subscribeFor({ Authorization: `Bearer ${token}` });
  assert.equal(seen.error, undefined, `no error expected, got ${JSON.stringify(seen.error)}`);
  assert.equal(seen.acknowledged, true, 'connection_ack received');
  assert.equal(seen.completed, false, 'the subscription stays open');
  assert.deepEqual(seen.events, [], 'nothing publishes offers in this test');
});

test('graphql-transport-ws: a bad token is refused with close code 4403', async () => {
  const seen = await subscribeFor({ Authorization: 'Bearer not-a-real-token' }, 5_000);
  assert.equal(seen.acknowledged, false, 'no connection_ack for a bad token');
  assert.ok(seen.error, 'the subscription fails');
  assert.equal(seen.error.code, 4403, `close code: ${seen.error.code} ${seen.error.reason}`);
});

test('graphql-transport-ws: without a token the subscription fails as UNAUTHENTICATED', async () => {
  const seen = await subscribeFor({}, 5_000);
  // The resolver's refusal may arrive as an `error` message or, like any field error, as a
  // `next` result carrying `errors`; either way the subscription must end with that code.
  const errors = Array.isArray(seen.error) ? seen.error : seen.events.flatMap((e) => e.errors ?? []);
  assert.ok(seen.error || seen.completed, `the subscription ends: ${JSON.stringify(seen)}`);
  assert.deepEqual(
    errors.map((e) => e.extensions?.code),
    ['UNAUTHENTICATED'],
    JSON.stringify(seen),
  );
  assert.ok(
    seen.events.every((e) => e.data == null || e.data.offers == null),
    'no offers data without a token',
  );
});

/** A minimal subscriptions-transport-ws client: returns every message received within `ms`. */
async function legacySubscribe(payload, ms = QUIET_MS) {
  const socket = new WebSocket(server.wsUrl, 'graphql-ws');
  const messages = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  assert.equal(socket.protocol, 'graphql-ws', 'the server picked the legacy subprotocol');
  socket.send(JSON.stringify({ type: 'connection_init', payload }));
  await waitFor(() => messages.some((m) => m.type === 'connection_ack' || m.type === 'connection_error'));
  socket.send(JSON.stringify({ id: '1', type: 'start', payload: { query: OFFERS } }));
  await new Promise((resolve) => setTimeout(resolve, ms));
  socket.send(JSON.stringify({ id: '1', type: 'stop' }));
  socket.close(1000);
  return messages.filter((m) => m.type !== 'ka');
}

async function waitFor(condition, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the server');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('legacy graphql-ws subprotocol: a signed-in agent subscribes to offers', async () => {
  const messages = await legacySubscribe({ Authorization: `Bearer ${token}` });
  assert.deepEqual(messages, [{ type: 'connection_ack' }]);
});

test('legacy graphql-ws subprotocol: without a token the subscription fails', async () => {
  const messages = await legacySubscribe({});
  assert.equal(messages[0]?.type, 'connection_ack', JSON.stringify(messages));
  // A field error travels as `data` with `errors` (or as `error`), then the stream completes.
  const failure = messages.find((m) => m.id === '1' && (m.type === 'error' || m.type === 'data'));
  assert.ok(failure, `a result for subscription 1 expected: ${JSON.stringify(messages)}`);
  const payload = failure.type === 'error' ? failure.payload : failure.payload.errors;
  const errors = Array.isArray(payload) ? payload : [payload];
  assert.equal(errors[0]?.extensions?.code, 'UNAUTHENTICATED', JSON.stringify(failure));
});
