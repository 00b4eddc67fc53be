import { useSubscriptionEvents } from '../connection/useSubscriptionEvents';
import { graphql } from '../gql';

/** New messages of one interaction; graphcache points its card at the newest (see cache.ts). */
export const InteractionMessagesSubscription = graphql(`
  subscription InteractionMessages($interactionId: ID!) {
    messages(interactionId: $interactionId) {
      ...TranscriptMessage
    }
  }
`);

export const TranscriptMessageFragment = graphql(`
  fragment TranscriptMessage on Message {
    id
    interactionId
    from
    text
    sentAt
    agent {
      id
      name
    }
    delivery
    deliveryError {
      kind
      message
      providerCode
    }
    email {
      subject
      messageId
      html
    }
    attachments {
      id
      fileName
      contentType
      size
      url
      scan
      threat
    }
  }
`);

const ignore = () => {};

/**
 * Keeps one interaction's messages flowing into the cache while it is in the log, so its card
 * shows the latest message and its open transcript notices new ones (useTranscript). Renders
 * nothing.
 */
export function MessageFeed({ interactionId }: { interactionId: string }) {
  useSubscriptionEvents(InteractionMessagesSubscription, { interactionId }, ignore);
  return null;
}
