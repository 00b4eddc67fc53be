// GraphQL-over-HTTP compliance of /query, audited with graphql-http.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auditServer } from 'graphql-http';
import { startServer } from './server.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

test('graphql-http audit finds no MUST violations', async () => {
  const results = await auditServer({ url: server.graphqlUrl });
  const counts = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  console.log(`audit: ${JSON.stringify(counts)} of ${results.length}`);

  for (const result of results.filter((r) => r.status === 'warn' || r.status === 'notice')) {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
  }
  const errors = results.filter((r) => r.status === 'error');
  assert.deepEqual(
    errors.map((r) => `${r.id} ${r.name}: ${r.reason}`),
    [],
    'every MUST of GraphQL over HTTP holds',
  );
  assert.ok(results.length > 50, `expected the full audit, got ${results.length} results`);
});
