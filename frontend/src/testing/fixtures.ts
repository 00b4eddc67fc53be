import type { LogInteractionFragment, TranscriptMessageFragment } from '../gql/graphql';

/** Server-shaped objects (with __typename) for tests; override what a test is about. */
type WithTypename<T> = T & { __typename: string };

/** The signed-in agent of desk tests, who holds the fixtures' interactions. */
export const ME = { __typename: 'Agent', id: 'agent-alice', name: 'Alice Martin' };
export const BOB = { __typename: 'Agent', id: 'agent-bob', name: 'Bob Okafor' };

export const supportPlan = {
  __typename: 'InteractionPlan',
  id: 'plan-support',
  name: 'Support',
  dispositionRequired: true,
  wrapSeconds: null,
  autoParkSeconds: 600,
  parkedTimeoutSeconds: 3600,
  dispositionAssist: false,
  summaryAssist: false,
  dispositionCodes: [
    { __typename: 'DispositionCode', code: 'RESOLVED', label: 'Resolved' },
    { __typename: 'DispositionCode', code: 'FOLLOW_UP', label: 'Follow-up needed' },
  ],
};

export const salesPlan = {
  ...supportPlan,
  id: 'plan-sales',
  name: 'Sales',
  dispositionRequired: false,
  wrapSeconds: 60,
  dispositionCodes: [{ __typename: 'DispositionCode', code: 'SOLD', label: 'Sold' }],
};

type Offer = NonNullable<LogInteractionFragment['offer']>;

export function interaction(
  overrides: Omit<Partial<LogInteractionFragment>, 'offer'> & {
    id: string;
    offer?: (Omit<Offer, 'transferredBy'> & Partial<Pick<Offer, 'transferredBy'>>) | null;
  },
): WithTypename<LogInteractionFragment> {
  return {
    __typename: 'Interaction',
    channel: 'WEBCHAT',
    state: 'ACTIVE',
    createdAt: '2026-11-21T12:00:00Z',
    acceptedAt: '2026-11-21T12:00:05Z',
    endedAt: null,
    endedBy: null,
    durationSeconds: null,
    notes: '',
    wrapDeadline: null,
    lastContactAt: null,
    autoParkAt: null,
    parkedAt: null,
    parkedUntil: null,
    parkedBy: null,
    pendingTransfer: null,
    agent: ME,
    contact: { __typename: 'Contact', address: 'visitor-1', name: 'Jane Doe' } as never,
    plan: supportPlan,
    dispositions: [],
    dispositionSuggestions: [],
    offer: null,
    lastMessage: null,
    direction: 'INBOUND',
    identity: null,
    freeTextUntil: null,
    callEndpoint: null,
    linkedInteraction: null,
    ...overrides,
    ...(overrides.contact && { contact: { __typename: 'Contact', ...overrides.contact } }),
    ...(overrides.offer && { offer: { __typename: 'Offer', transferredBy: null, ...overrides.offer } }),
    ...(overrides.identity && { identity: { __typename: 'ChannelIdentity', ...overrides.identity } }),
  } as WithTypename<LogInteractionFragment>;
}

export function message(
  overrides: Partial<TranscriptMessageFragment> & { id: string; interactionId: string },
): WithTypename<TranscriptMessageFragment> {
  return {
    __typename: 'Message',
    from: 'CONTACT',
    text: 'Hello',
    sentAt: '2026-11-21T12:00:10Z',
    agent: null,
    delivery: null,
    deliveryError: null,
    email: null,
    attachments: [],
    ...overrides,
    ...(overrides.deliveryError && { deliveryError: { __typename: 'DeliveryError', ...overrides.deliveryError } }),
  } as WithTypename<TranscriptMessageFragment>;
}

/** A transcript page as the server returns it; cursors are the message IDs. */
export function transcriptPage(
  interactionId: string,
  messages: TranscriptMessageFragment[],
  hasNextPage = false,
) {
  return {
    interaction: {
      __typename: 'Interaction',
      id: interactionId,
      transcript: {
        __typename: 'MessageConnection',
        edges: messages.map((node) => ({ __typename: 'MessageEdge', cursor: node.id, node })),
        pageInfo: {
          __typename: 'PageInfo',
          hasNextPage,
          endCursor: messages.at(-1)?.id ?? null,
        },
      },
    },
  };
}
