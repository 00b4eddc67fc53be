import { useCallback, useEffect, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { formatClock, formatDuration, secondsBetween } from '../clock/format';
import { useNow } from '../clock/useNow';
import { useConnectionStatus, useResync } from '../connection/ConnectionContext';
import type { InteractionState, LiveAgentFragment, LiveQueueFragment, PresenceState } from '../gql/graphql';
import { ChannelTag, contactName } from '../log/channel';
import { Capacity } from '../presence/Capacity';
import { presenceOptions } from '../presence/PresenceSwitch';
import {
  AGENTS_PAGE,
  LiveAgentsQuery,
  LiveAgentUpdatesSubscription,
  LiveQueuesQuery,
  LiveQueueUpdatesSubscription,
} from './liveView';
import { useLiveSubscription } from './useLiveSubscription';
import './live.css';

const stateLabel: Record<InteractionState, string> = {
  QUEUED: 'Queued',
  OFFERED: 'Offered',
  ACTIVE: 'Active',
  PARKED: 'Parked',
  WRAP: 'Wrap',
  COMPLETED: 'Completed',
};

const presenceLabel = Object.fromEntries(presenceOptions.map((o) => [o.value, o.label])) as Record<
  PresenceState,
  string
>;

/**
 * The supervisor's live view (issue 13): every plan's queue and every agent, kept current by
 * `queueStatsUpdates` and `agentUpdates` through graphcache (see liveCache.ts), never by
 * polling. While the socket is down, or a subscription was ended or refused and is being opened
 * again, it says the figures may be stale; once it is back it re-queries both lists.
 */
export function LiveView() {
  const [queues, reexecuteQueues] = useQuery({ query: LiveQueuesQuery });
  // Bumped to make every page of agents re-query.
  const [generation, setGeneration] = useState(0);
  const requery = useCallback(() => {
    reexecuteQueues({ requestPolicy: 'network-only' });
    setGeneration((g) => g + 1);
  }, [reexecuteQueues]);
  const queueStatus = useLiveSubscription(LiveQueueUpdatesSubscription, requery);
  const agentStatus = useLiveSubscription(LiveAgentUpdatesSubscription, requery);
  const connection = useConnectionStatus();
  // Whatever changed between the first queries and the subscriptions starting, or while the
  // socket was down, is fetched again.
  useResync(requery);

  const reconnecting =
    connection === 'reconnecting' || queueStatus === 'reconnecting' || agentStatus === 'reconnecting';
  const live = !reconnecting && queueStatus === 'live';
  const stats = queues.data?.queueStats ?? [];

  return (
    <div className="live" aria-busy={!live}>
      <div className="live__head">
        <h1 className="live__title">Live view</h1>
        <p className="live__status" role="status" data-status={reconnecting ? 'reconnecting' : live ? 'live' : 'connecting'}>
          <span className="live__dot" aria-hidden="true" />
          {reconnecting
            ? 'Reconnecting… The figures may be out of date until the connection is back.'
            : live
              ? 'Live'
              : 'Connecting…'}
        </p>
      </div>

      <section className="live__section" aria-labelledby="live-queues">
        <h2 id="live-queues" className="live__subtitle">
          Queues
        </h2>
        {queues.error && !queues.data ? (
          <div className="card notice" role="alert">
            <p>The queues could not be loaded.</p>
            <button type="button" className="button" onClick={requery}>
              Try again
            </button>
          </div>
        ) : (
          <div className="live__scroll">
            <table className="live-table" aria-labelledby="live-queues">
              <thead>
                <tr>
                  <th scope="col">Plan</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Oldest wait</th>
                  <th scope="col">Offered</th>
                  <th scope="col">Active</th>
                  <th scope="col">Parked</th>
                  <th scope="col">Wrap</th>
                  <th scope="col">Agents ready</th>
                  <th scope="col">Agents not ready</th>
                  <th scope="col">Completed today</th>
                  <th scope="col">Median handling time</th>
                </tr>
              </thead>
              <tbody>
                {stats.length === 0 && (
                  <tr>
                    <td colSpan={11} className="muted">
                      {queues.fetching ? 'Loading…' : 'No plans yet.'}
                    </td>
                  </tr>
                )}
                {stats.map((s) => (
                  <QueueRow key={s.plan.id} stats={s} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="live__section" aria-labelledby="live-agents">
        <h2 id="live-agents" className="live__subtitle">
          Agents
        </h2>
        <div className="live__scroll">
          <table className="live-table live-table--agents" aria-labelledby="live-agents">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Presence</th>
                <th scope="col">Load</th>
                <th scope="col">Current interactions</th>
              </tr>
            </thead>
            <tbody>
              <AgentPage after={null} loadedBefore={0} generation={generation} onRetry={requery} />
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

function Count({ value, col }: { value: number; col: string }) {
  return (
    <td className="live-table__number" data-col={col}>
      {value}
    </td>
  );
}

/** A running clock, with the duration in words for screen readers. */
function Clock({ seconds }: { seconds: number }) {
  return (
    <>
      <span className="live__clock" aria-hidden="true">
        {formatClock(seconds)}
      </span>
      <span className="visually-hidden">{formatDuration(seconds)}</span>
    </>
  );
}

function Since({ since }: { since: string }) {
  return <Clock seconds={secondsBetween(since, useNow())} />;
}

export function QueueRow({ stats }: { stats: LiveQueueFragment }) {
  return (
    <tr data-plan={stats.plan.id}>
      <th scope="row">{stats.plan.name}</th>
      <Count value={stats.waiting} col="waiting" />
      <td className="live-table__number" data-col="oldest">
        {stats.waiting > 0 && stats.oldestWaitingSince ? (
          <Since since={stats.oldestWaitingSince} />
        ) : (
          <NoValue />
        )}
      </td>
      <Count value={stats.offered} col="offered" />
      <Count value={stats.active} col="active" />
      <Count value={stats.parked} col="parked" />
      <Count value={stats.wrap} col="wrap" />
      <Count value={stats.agentsReady} col="ready" />
      <Count value={stats.agentsNotReady} col="not-ready" />
      <Count value={stats.completedToday} col="completed" />
      <td className="live-table__number" data-col="median">
        {stats.medianHandleSecondsToday != null ? <Clock seconds={stats.medianHandleSecondsToday} /> : <NoValue />}
      </td>
    </tr>
  );
}

function NoValue() {
  return (
    <>
      <span aria-hidden="true">–</span>
      <span className="visually-hidden">none</span>
    </>
  );
}

/**
 * One page of agents, and after it the next page while the list has more (`agents` gives at most
 * 100 at a time). Each page is its own query in graphcache, so `agentUpdates` reach every row.
 */
function AgentPage({
  after,
  loadedBefore,
  generation,
  onRetry,
}: {
  after: string | null;
  loadedBefore: number;
  generation: number;
  onRetry: () => void;
}) {
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: LiveAgentsQuery,
    variables: { first: AGENTS_PAGE, after },
  });
  const mountedAt = useRef(generation);
  useEffect(() => {
    if (generation !== mountedAt.current) reexecute({ requestPolicy: 'network-only' });
  }, [generation, reexecute]);
  const page = data?.agents;
  if (!page) {
    return (
      <tr>
        <td colSpan={4} className="muted">
          {error && !fetching ? (
            <span role="alert">
              The agents could not be loaded.{' '}
              <button type="button" className="button" onClick={onRetry}>
                Try again
              </button>
            </span>
          ) : (
            'Loading…'
          )}
        </td>
      </tr>
    );
  }
  const loaded = loadedBefore + page.edges.length;
  const agents = page.edges.map((e) => e.node).filter((a) => !a.disabled);
  const more = page.pageInfo.hasNextPage && page.pageInfo.endCursor && loaded < page.totalCount;
  return (
    <>
      {after === null && agents.length === 0 && !more && (
        <tr>
          <td colSpan={4} className="muted">
            No agents yet.
          </td>
        </tr>
      )}
      {agents.map((agent) => (
        <AgentRow key={agent.id} agent={agent} />
      ))}
      {more && (
        <AgentPage after={page.pageInfo.endCursor} loadedBefore={loaded} generation={generation} onRetry={onRetry} />
      )}
    </>
  );
}

export function AgentRow({ agent }: { agent: LiveAgentFragment }) {
  const shownCapacity = agent.capacity.some((c) => c.max > 0);
  return (
    <tr data-agent={agent.username}>
      <th scope="row">
        <span className="live__agent">{agent.name}</span>{' '}
        <span className="muted live__username">{agent.username}</span>
        {agent.role === 'SUPERVISOR' && <span className="badge">Supervisor</span>}
      </th>
      <td data-col="presence">
        <span className="live__presence" data-presence={agent.presence}>
          <span className="presence__dot" aria-hidden="true" />
          {presenceLabel[agent.presence]}
        </span>{' '}
        <span className="muted live__since">
          for <Since since={agent.presenceSince} />
        </span>
      </td>
      <td data-col="load">{shownCapacity ? <Capacity capacity={agent.capacity} /> : <NoValue />}</td>
      <td data-col="interactions">
        {agent.currentInteractions.length === 0 ? (
          <span className="muted">None</span>
        ) : (
          <ul className="live__interactions" aria-label={`${agent.name}’s interactions`}>
            {agent.currentInteractions.map((i) => (
              <li key={i.id} data-state={i.state}>
                <ChannelTag channel={i.channel} /> <span className="live__contact">{contactName(i.contact)}</span>{' '}
                <span className="badge live__state">{stateLabel[i.state]}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}
