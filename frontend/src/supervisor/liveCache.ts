import type { Cache, KeyingConfig, UpdatesConfig } from '@urql/exchange-graphcache';

/**
 * How graphcache keeps the supervisor's live view (issue 13): queue figures are entities keyed
 * by their plan, so each `queueStatsUpdates` list overwrites them and becomes `Query.queueStats`;
 * each `agentUpdates` agent is an Agent entity, so it overwrites the agent already listed by
 * `agents`. An agent the loaded pages do not hold (e.g. created since) drops the pages, which
 * makes graphcache fetch them again with the newcomer in its place.
 */

export const liveViewKeys: KeyingConfig = {
  QueueStats: (data) => (data.plan as { id?: string } | null | undefined)?.id ?? null,
  AgentConnection: () => null,
  AgentEdge: () => null,
  // changePassword's answer (the shell's dialog).
  AgentPayload: () => null,
};

/** Every loaded `Query.agents(…)` field and the agent keys its page holds. */
type FieldArgs = Parameters<Cache['invalidate']>[2];

function agentPages(cache: Cache): { args: FieldArgs; agents: string[] }[] {
  return cache
    .inspectFields('Query')
    .filter((field) => field.fieldName === 'agents')
    .map((field) => {
      const connection = cache.resolve('Query', field.fieldKey);
      const edges = typeof connection === 'string' ? cache.resolve(connection, 'edges') : null;
      const agents = Array.isArray(edges)
        ? (edges as unknown[]).flatMap((edge) => {
            const node = typeof edge === 'string' ? cache.resolve(edge, 'node') : null;
            return typeof node === 'string' ? [node] : [];
          })
        : [];
      return { args: field.arguments as FieldArgs, agents };
    });
}

export const liveViewSubscriptionUpdates: NonNullable<UpdatesConfig['Subscription']> = {
  queueStatsUpdates(result, _args, cache) {
    const list = result.queueStatsUpdates as { plan?: { id: string } | null }[] | null | undefined;
    if (!Array.isArray(list)) return;
    // The whole list each time: it is the queue figures now, plans added or removed included.
    cache.link(
      'Query',
      'queueStats',
      list.map((stats) => cache.keyOfEntity({ __typename: 'QueueStats', plan: stats.plan ?? null })),
    );
  },
  agentUpdates(result, _args, cache) {
    const agent = result.agentUpdates as { id?: string } | null | undefined;
    if (!agent?.id) return;
    const key = cache.keyOfEntity({ __typename: 'Agent', id: agent.id });
    const pages = agentPages(cache);
    if (pages.length === 0 || pages.some((page) => key !== null && page.agents.includes(key))) return;
    // Not in the list yet: fetch it again rather than guess where the agent goes.
    for (const page of pages) cache.invalidate('Query', 'agents', page.args);
  },
};
