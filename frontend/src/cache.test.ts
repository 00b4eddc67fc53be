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
