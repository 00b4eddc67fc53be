import { graphql } from '../gql';
import type { LogCardFragment as LogCard } from '../gql/graphql';

/**
 * What a card in the conversation log shows. The log query selects only this: the server
 * prices `myInteractions` at 20 items per field (complexity limit 1000), and the open
 * interaction's details come from its own query (InteractionDetail).
 */
export const LogCardFragment = graphql(`
  fragment LogCard on Interaction {
    id
    channel
    state
    callEndpoint
    linkedInteraction {
      id
    }
    acceptedAt
    wrapDeadline
    parkedUntil
    contact {
      address
      name
    }
    offer {
      id
      expiresAt
      autoAccepted
      transferredBy {
        id
        name
      }
    }
    lastMessage {
      id
      from
      text
      sentAt
    }
  }
`);

/**
 * Everything the desk shows of one interaction: its card, the interaction area, the log and wrap
 * panel and insights. Subscriptions and mutations that return an interaction select it, so
 * graphcache always holds complete entities and no event leaves a screen half-updated.
 */
export const LogInteractionFragment = graphql(`
  fragment LogInteraction on Interaction {
    ...LogCard
    createdAt
    endedAt
    endedBy
    durationSeconds
    notes
    lastContactAt
    autoParkAt
    parkedAt
    parkedBy {
      id
      name
    }
    agent {
      id
      name
    }
    pendingTransfer {
      offerId
      expiresAt
      to {
        id
        name
      }
    }
    plan {
      id
      name
      dispositionRequired
      wrapSeconds
      autoParkSeconds
      parkedTimeoutSeconds
      dispositionAssist
      summaryAssist
      dispositionCodes {
        code
        label
      }
    }
    dispositions {
      code
      label
    }
    dispositionSuggestions {
      code {
        code
        label
      }
      confidence
    }
    direction
    identity {
      id
      channel
      name
      address
    }
    freeTextUntil
    linkedInteraction {
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

/**
 * Whether a log entry is an offer to answer rather than a conversation: offered by routing, or
 * a transfer another agent is offering (the interaction stays ACTIVE with them until it is
 * accepted, and its `offer` names who is transferring it).
 */
export function isOffer(interaction: Pick<LogCard, 'state' | 'offer'>): boolean {
  return interaction.state === 'OFFERED' || Boolean(interaction.offer?.transferredBy);
}

export const MyInteractionsQuery = graphql(`
  query MyInteractions {
    myInteractions {
      ...LogCard
    }
  }
`);

export const InteractionDetailQuery = graphql(`
  query InteractionDetail($id: ID!) {
    interaction(id: $id) {
      ...LogInteraction
    }
  }
`);
