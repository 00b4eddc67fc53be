import { graphql } from '../gql';

/** One plan's queue as the live view shows it; the query and the subscription select the same. */
export const LiveQueueFragment = graphql(`
  fragment LiveQueue on QueueStats {
    plan {
      id
      name
    }
    waiting
    oldestWaitingSince
    offered
    active
    parked
    wrap
    agentsReady
    agentsNotReady
    completedToday
    medianHandleSecondsToday
  }
`);

/** One agent as the live view shows them; the query and the subscription select the same. */
export const LiveAgentFragment = graphql(`
  fragment LiveAgent on Agent {
    id
    username
    name
    role
    disabled
    presence
    presenceSince
    capacity {
      channel
      max
      used
    }
    currentInteractions {
      id
      channel
      state
      contact {
        address
        name
      }
    }
  }
`);

export const LiveQueuesQuery = graphql(`
  query LiveQueues {
    queueStats {
      ...LiveQueue
    }
  }
`);

export const LiveQueueUpdatesSubscription = graphql(`
  subscription LiveQueueUpdates {
    queueStatsUpdates {
      ...LiveQueue
    }
  }
`);

/** The server's largest page of agents. */
export const AGENTS_PAGE = 100;

export const LiveAgentsQuery = graphql(`
  query LiveAgents($first: Int!, $after: String) {
    agents(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          ...LiveAgent
        }
      }
    }
  }
`);

export const LiveAgentUpdatesSubscription = graphql(`
  subscription LiveAgentUpdates {
    agentUpdates {
      ...LiveAgent
    }
  }
`);
