import type { Cache, CacheExchangeOpts, UpdateResolver } from '@urql/exchange-graphcache';

/**
 * How graphcache keeps the admin screens' server state, spread into cache.ts: types without an
 * ID, and the lists a mutation adds to or removes from. Lists are dropped (for every argument
 * set) rather than patched, so the screen showing them asks the server again.
 */
export const adminKeys: NonNullable<CacheExchangeOpts['keys']> = {
  AgentConnection: () => null,
  AgentEdge: () => null,
  AuditEntryConnection: () => null,
  AuditEntryEdge: () => null,
  AgentPayload: () => null,
  PlanPayload: () => null,
  CreateApiKeyPayload: () => null,
  ApiKeyPayload: () => null,
  CannedResponsePayload: () => null,
  DeleteCannedResponsePayload: () => null,
  CreateWebhookPayload: () => null,
  DeleteWebhookPayload: () => null,
  RotateWebhookSecretPayload: () => null,
  RedeliverWebhookEventPayload: () => null,
  WebhookDelivery: () => null,
};

function drop(cache: Cache, ...fields: string[]) {
  for (const f of cache.inspectFields('Query')) {
    if (fields.includes(f.fieldName)) cache.invalidate('Query', f.fieldName, f.arguments ?? undefined);
  }
}

const succeeded = (result: Record<string, unknown>, field: string) => {
  const payload = result[field] as { userErrors?: unknown[] } | null | undefined;
  return Boolean(payload) && !payload?.userErrors?.length;
};

/** Every admin change is in the audit log; some change lists too. */
const changes =
  (field: string, ...lists: string[]): UpdateResolver =>
  (result, _args, cache) => {
    if (!succeeded(result, field)) return;
    drop(cache, 'auditLog', ...lists);
  };

export const adminMutationUpdates: Record<string, UpdateResolver> = {
  createAgent: changes('createAgent', 'agents'),
  updateAgent: changes('updateAgent', 'agents'),
  createPlan: changes('createPlan', 'interactionPlans'),
  updatePlan: changes('updatePlan'),
  createApiKey: changes('createApiKey', 'apiKeys'),
  revokeApiKey: changes('revokeApiKey'),
  saveCannedResponse: changes('saveCannedResponse', 'cannedResponses'),
  deleteCannedResponse: changes('deleteCannedResponse', 'cannedResponses'),
  createWebhook: changes('createWebhook', 'webhooks'),
  deleteWebhook: changes('deleteWebhook', 'webhooks'),
  rotateWebhookSecret: changes('rotateWebhookSecret'),
  redeliverWebhookEvent: changes('redeliverWebhookEvent', 'webhooks'),
};
