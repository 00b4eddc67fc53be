import { gql } from '@urql/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MyInteractionsQuery } from './log/logInteraction';
import { fakeBackend, type FakeBackend } from './testing/fakeBackend';
import { interaction, message } from './testing/fixtures';

/** Logs, offers and messages as graphcache keeps them (cache.ts), against the real client. */
let backend: FakeBackend;

afterEach(() => backend?.dispose());

const OffersDoc = gql`
  subscription CacheTestOffers {
    offers {
      kind
      offer {
        id
        expiresAt
        autoAccepted
        interaction {
          id
          channel
          state
          acceptedAt
          wrapDeadline
          parkedUntil
          callEndpoint
          linkedInteraction {
            id
          }
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
      }
    }
  }
`;

const UpdatesDoc = gql`
  subscription CacheTestInteractionUpdates {
    interactionUpdates {
      id
      state
    }
  }
`;

const MessagesDoc = gql`
  subscription CacheTestInteractionMessages($interactionId: ID!) {
    messages(interactionId: $interactionId) {
      id
      interactionId
      from
      text
      sentAt
    }
  }
`;

const CapacityDoc = gql`
  query CacheTestCapacity {
    me {
      id
      capacity {
        channel
        max
        used
      }
    }
  }
`;

const CompleteDoc = gql`
  mutation CacheTestCompleteInteraction($input: InteractionInput!) {
    completeInteraction(input: $input) {
      interaction {
        id
        state
      }
      userErrors {
        code
        message
      }
    }
  }
`;

const chat = interaction({ id: 'i-1' });
const offered = interaction({
  id: 'i-2',
  state: 'OFFERED',
  offer: { id: 'o-2', expiresAt: null, autoAccepted: false },
});

/** Loads the log, keeps it watched like the Desk does, and returns a reader of its IDs. */
async function watchLog(b: FakeBackend) {
  let latest: { myInteractions: { id: string; state: string; lastMessage: { text: string } | null }[] } | undefined;
  b.client.query(MyInteractionsQuery, {}).subscribe((result) => {
    if (result.data) latest = result.data as never;
  });
  await vi.waitFor(() => expect(latest).toBeDefined());
  return () => latest!.myInteractions;
}

function subscribe(b: FakeBackend, doc: ReturnType<typeof gql>, variables = {}) {
  b.client.subscription(doc, variables).subscribe(() => {});
}

const offerEvent = (kind: string) => ({
  offers: {
    __typename: 'OfferEvent',
    kind,
    offer: { __typename: 'Offer', id: 'o-2', expiresAt: null, autoAccepted: false, interaction: offered },
  },
});

describe('cache updates', () => {
  it('an offer joins the log and leaves it when it expires or is rescinded', async () => {
    backend = fakeBackend({ MyInteractions: () => ({ myInteractions: [chat] }) });
    const log = await watchLog(backend);
    subscribe(backend, OffersDoc);
    await vi.waitFor(() => expect(backend.subscriptions('CacheTestOffers')).toHaveLength(1));

    backend.emit('CacheTestOffers', offerEvent('OFFERED'));
    await vi.waitFor(() => expect(log().map((i) => i.id)).toEqual(['i-1', 'i-2']));

    backend.emit('CacheTestOffers', offerEvent('EXPIRED'));
    await vi.waitFor(() => expect(log().map((i) => i.id)).toEqual(['i-1']));
  });

  it('an update to COMPLETED removes the card; WRAP keeps it', async () => {
    backend = fakeBackend({ MyInteractions: () => ({ myInteractions: [chat] }) });
    const log = await watchLog(backend);
    subscribe(backend, UpdatesDoc);
    await vi.waitFor(() => expect(backend.subscriptions('CacheTestInteractionUpdates')).toHaveLength(1));

    backend.emit('CacheTestInteractionUpdates', { interactionUpdates: { __typename: 'Interaction', id: 'i-1', state: 'WRAP' } });
    await vi.waitFor(() => expect(log()[0]!.state).toBe('WRAP'));

    backend.emit('CacheTestInteractionUpdates', { interactionUpdates: { __typename: 'Interaction', id: 'i-1', state: 'COMPLETED' } });
    await vi.waitFor(() => expect(log()).toEqual([]));
  });

  it('W5: completeInteraction removes the card', async () => {
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [chat] }),
      CacheTestCompleteInteraction: () => ({
        completeInteraction: {
          __typename: 'InteractionPayload',
          interaction: { __typename: 'Interaction', id: 'i-1', state: 'COMPLETED' },
          userErrors: [],
        },
      }),
    });
    const log = await watchLog(backend);
    await backend.client.mutation(CompleteDoc, { input: { interactionId: 'i-1' } }).toPromise();
    await vi.waitFor(() => expect(log()).toEqual([]));
  });

  it('a new message becomes the card’s last message, but an older one does not replace it', async () => {
    backend = fakeBackend({ MyInteractions: () => ({ myInteractions: [chat] }) });
    const log = await watchLog(backend);
    subscribe(backend, MessagesDoc, { interactionId: 'i-1' });
    await vi.waitFor(() => expect(backend.subscriptions('CacheTestInteractionMessages')).toHaveLength(1));

    backend.emit('CacheTestInteractionMessages', {
      messages: message({ id: 'm-2', interactionId: 'i-1', text: 'Newer', sentAt: '2026-11-21T12:01:00.5Z' }),
    });
    await vi.waitFor(() => expect(log()[0]!.lastMessage?.text).toBe('Newer'));

    backend.emit('CacheTestInteractionMessages', {
      messages: message({ id: 'm-1', interactionId: 'i-1', text: 'Older', sentAt: '2026-11-21T12:00:59Z' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log()[0]!.lastMessage?.text).toBe('Newer');
  });

  it('P2: offers make the header refetch capacity rather than guess it', async () => {
    let used = 0;
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [] }),
      CacheTestCapacity: () => ({
        me: {
          __typename: 'Agent',
          id: 'A1',
          capacity: [{ __typename: 'ChannelCapacity', channel: 'WEBCHAT', max: 4, used }],
        },
      }),
    });
    await watchLog(backend);
    let shown: number | undefined;
    backend.client.query(CapacityDoc, {}).subscribe((result) => {
      shown = result.data?.me.capacity[0].used;
    });
    await vi.waitFor(() => expect(shown).toBe(0));
    subscribe(backend, OffersDoc);
    await vi.waitFor(() => expect(backend.subscriptions('CacheTestOffers')).toHaveLength(1));

    used = 1;
    backend.emit('CacheTestOffers', offerEvent('OFFERED'));

    await vi.waitFor(() => expect(shown).toBe(1));
    expect(backend.names().filter((n) => n === 'CacheTestCapacity')).toHaveLength(2);
  });
});

describe('cache updates: parking and transfers', () => {
  // The log card's fields and the holder, as the desk's documents select them.
  const MeDoc = gql`
    query CacheTestMe {
      me {
        id
      }
    }
  `;
  const TransferOffersDoc = gql`
    subscription CacheTestTransferOffers {
      offers {
        kind
        offer {
          id
          expiresAt
          autoAccepted
          transferredBy {
            id
            name
          }
          interaction {
            id
            channel
            state
            acceptedAt
            wrapDeadline
            parkedUntil
            callEndpoint
            linkedInteraction {
              id
            }
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
            agent {
              id
              name
            }
          }
        }
      }
    }
  `;
  const UpdatesWithHolderDoc = gql`
    subscription CacheTestHolderUpdates {
      interactionUpdates {
        id
        channel
        state
        acceptedAt
        wrapDeadline
        parkedUntil
        callEndpoint
        linkedInteraction {
          id
        }
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
        agent {
          id
          name
        }
      }
    }
  `;
  const UnparkDoc = gql`
    subscription CacheTestUnpark {
      unparkNotifications {
        interaction {
          id
          channel
          state
          acceptedAt
          wrapDeadline
          parkedUntil
          callEndpoint
          linkedInteraction {
            id
          }
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
          agent {
            id
            name
          }
        }
        message {
          id
          interactionId
          from
          text
          sentAt
        }
      }
    }
  `;
  const ResultsDoc = gql`
    subscription CacheTestTransferResults {
      transferResults {
        outcome
        target {
          id
          name
        }
        interaction {
          id
          channel
          state
          acceptedAt
          wrapDeadline
          parkedUntil
          callEndpoint
          linkedInteraction {
            id
          }
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
          agent {
            id
            name
          }
        }
      }
    }
  `;
  const RejectDoc = gql`
    mutation CacheTestRejectOffer($input: OfferInput!) {
      rejectOffer(input: $input) {
        interaction {
          id
          state
        }
        userErrors {
          code
          message
        }
      }
    }
  `;
  const TransferDoc = gql`
    mutation CacheTestTransfer($input: TransferInput!) {
      transferInteraction(input: $input) {
        interaction {
          id
          channel
          state
          acceptedAt
          wrapDeadline
          parkedUntil
          callEndpoint
          linkedInteraction {
            id
          }
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
          agent {
            id
            name
          }
        }
        userErrors {
          code
          message
        }
      }
    }
  `;

  const alice = { __typename: 'Agent', id: 'agent-alice', name: 'Alice Martin' };
  const bob = { __typename: 'Agent', id: 'agent-bob', name: 'Bob Okafor' };
  const held = (by: typeof alice, extra: Record<string, unknown> = {}) => ({ ...interaction({ id: 'i-1', agent: by }), ...extra });

  /** A backend signed in as `me`, its log loaded and watched. */
  async function signedIn(me: typeof alice, log: unknown[], answers: Record<string, (v: Record<string, unknown>) => unknown> = {}) {
    backend = fakeBackend({ CacheTestMe: () => ({ me }), MyInteractions: () => ({ myInteractions: log }), ...answers });
    await backend.client.query(MeDoc, {}).toPromise();
    return watchLog(backend);
  }

  async function listen(doc: ReturnType<typeof gql>) {
    subscribe(backend, doc);
    const name = (doc.definitions[0] as { name: { value: string } }).name.value;
    await vi.waitFor(() => expect(backend.subscriptions(name)).toHaveLength(1));
    return (data: unknown) => backend.emit(name, data);
  }

  it('T1: a transfer offer joins the target’s log though it is ACTIVE with the sender; rejecting it removes it (T6)', async () => {
    const log = await signedIn(bob, [], {
      CacheTestRejectOffer: () => ({
        rejectOffer: {
          __typename: 'OfferPayload',
          interaction: { __typename: 'Interaction', id: 'i-1', state: 'ACTIVE' },
          userErrors: [],
        },
      }),
    });
    const emit = await listen(TransferOffersDoc);
    const offer = { __typename: 'Offer', id: 'i-1.2', expiresAt: null, autoAccepted: false, transferredBy: alice };
    // The event's Interaction.offer is left out: the offer links itself, as for routed offers.
    emit({ offers: { __typename: 'OfferEvent', kind: 'OFFERED', offer: { ...offer, interaction: held(alice) } } });
    await vi.waitFor(() => expect(log().map((i) => i.id)).toEqual(['i-1']));
    expect((log()[0] as unknown as { offer: { transferredBy: { name: string } } }).offer.transferredBy.name).toBe('Alice Martin');

    await backend.client.mutation(RejectDoc, { input: { offerId: 'i-1.2' } }).toPromise();
    await vi.waitFor(() => expect(log()).toEqual([]));
  });

  it('T5: an accepted transfer leaves the sender’s log, whichever of the result and the update comes first', async () => {
    const log = await signedIn(alice, [held(alice)]);
    const update = await listen(UpdatesWithHolderDoc);
    const result = await listen(ResultsDoc);

    // While it waits for bob, the update keeps it with alice.
    update({ interactionUpdates: held(alice) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log().map((i) => i.id)).toEqual(['i-1']);

    // The update saying bob holds it now, before the result.
    update({ interactionUpdates: held(bob) });
    await vi.waitFor(() => expect(log()).toEqual([]));
    result({ transferResults: { __typename: 'TransferResult', outcome: 'ACCEPTED', target: bob, interaction: held(bob) } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log()).toEqual([]);
  });

  it('T5: the result alone removes the card too, and a late update with the new holder does not bring it back', async () => {
    const log = await signedIn(alice, [held(alice)]);
    const update = await listen(UpdatesWithHolderDoc);
    const result = await listen(ResultsDoc);
    result({ transferResults: { __typename: 'TransferResult', outcome: 'ACCEPTED', target: bob, interaction: held(alice) } });
    await vi.waitFor(() => expect(log()).toEqual([]));
    update({ interactionUpdates: held(bob) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log()).toEqual([]);
  });

  it('T6: a rejected transfer keeps the card', async () => {
    const log = await signedIn(alice, [held(alice)]);
    const result = await listen(ResultsDoc);
    result({ transferResults: { __typename: 'TransferResult', outcome: 'REJECTED', target: bob, interaction: held(alice) } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log().map((i) => i.id)).toEqual(['i-1']);
  });

  it('T1: a transfer to a plan leaves the log at once', async () => {
    const log = await signedIn(alice, [held(alice)], {
      CacheTestTransfer: () => ({
        transferInteraction: {
          __typename: 'InteractionPayload',
          interaction: { ...held(alice), state: 'QUEUED', agent: null },
          userErrors: [],
        },
      }),
    });
    await backend.client.mutation(TransferDoc, { input: { interactionId: 'i-1', toPlanId: 'plan-sales' } }).toPromise();
    await vi.waitFor(() => expect(log()).toEqual([]));
  });

  it('K4 K6: a reply to a parked chat brings it back (ACTIVE or WRAP) or, queued elsewhere, removes it; the reply shows on the card', async () => {
    const parked = (id: string) => ({ ...interaction({ id, state: 'PARKED', agent: alice }), parkedUntil: '2026-11-21T13:00:00Z' });
    const log = await signedIn(alice, [parked('i-1'), parked('i-2'), parked('i-3')]);
    const emit = await listen(UnparkDoc);
    const reply = (id: string) => message({ id: `m-${id}`, interactionId: id, text: `Reply to ${id}`, sentAt: '2026-11-21T12:30:00Z' });
    const woke = (id: string, state: string, agent: typeof alice | null) => ({
      unparkNotifications: {
        __typename: 'UnparkNotification',
        interaction: { ...parked(id), state, agent, parkedUntil: null },
        message: reply(id),
      },
    });

    emit(woke('i-1', 'ACTIVE', alice));
    emit(woke('i-2', 'WRAP', alice));
    // The post-parking queue offered it to bob at once.
    emit(woke('i-3', 'OFFERED', bob));

    await vi.waitFor(() => expect(log().map((i) => `${i.id} ${i.state}`)).toEqual(['i-1 ACTIVE', 'i-2 WRAP']));
    expect(log()[0]!.lastMessage?.text).toBe('Reply to i-1');
  });
});

describe('cache: delivery marks', () => {
  const DeliveryDoc = gql`
    subscription CacheTestDelivery {
      deliveryUpdates {
        id
        delivery
        deliveryError {
          kind
          message
          providerCode
        }
      }
    }
  `;
  const TranscriptDoc = gql`
    query CacheTestTranscript($id: ID!) {
      interaction(id: $id) {
        id
        transcript(first: 10) {
          edges {
            cursor
            node {
              id
              delivery
              deliveryError {
                kind
                message
                providerCode
              }
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  `;
  const page = (delivery: string) => ({
    interaction: {
      __typename: 'Interaction',
      id: 'i-1',
      transcript: {
        __typename: 'MessageConnection',
        edges: [
          {
            __typename: 'MessageEdge',
            cursor: 'c1',
            node: { __typename: 'Message', id: 'm-1', delivery, deliveryError: null },
          },
        ],
        pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: 'c1' },
      },
    },
  });

  it('a transcript page read before a receipt does not move the mark back once the receipt arrived', async () => {
    let answer = 'SENT';
    backend = fakeBackend({ CacheTestTranscript: () => page(answer) });
    subscribe(backend, DeliveryDoc);
    await vi.waitFor(() => expect(backend.subscriptions('CacheTestDelivery')).toHaveLength(1));
    let shown: string | undefined;
    backend.client.query(TranscriptDoc, { id: 'i-1' }).subscribe((result) => {
      shown = (result.data as never as ReturnType<typeof page> | undefined)?.interaction.transcript.edges[0]?.node.delivery;
    });
    await vi.waitFor(() => expect(shown).toBe('SENT'));

    backend.emit('CacheTestDelivery', {
      deliveryUpdates: { __typename: 'Message', id: 'm-1', delivery: 'DELIVERED', deliveryError: null },
    });
    await vi.waitFor(() => expect(shown).toBe('DELIVERED'));

    // The page the server read before the receipt arrives now, and is written over the message.
    backend.client.query(TranscriptDoc, { id: 'i-1' }, { requestPolicy: 'network-only' }).subscribe(() => {});
    await vi.waitFor(() => expect(backend.calls.filter((c) => c.operationName === 'CacheTestTranscript')).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(shown).toBe('DELIVERED');

    // A later page that is further along wins, as the server never moves a status back.
    answer = 'READ';
    backend.client.query(TranscriptDoc, { id: 'i-1' }, { requestPolicy: 'network-only' }).subscribe(() => {});
    await vi.waitFor(() => expect(shown).toBe('READ'));
  });
});
