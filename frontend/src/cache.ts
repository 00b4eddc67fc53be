import type { Cache, CacheExchangeOpts } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import type { InteractionState } from './gql/graphql';

/**
 * How graphcache keeps the desk's server state: which types are entities, how transcript pages
 * merge, and how offers, updates, messages and mutations change the conversation log. Screens
 * read the cache only; nothing here keeps a second copy of server state.
 */

/** States in which an interaction belongs in the agent's conversation log. */
const IN_LOG: ReadonlySet<InteractionState> = new Set(['OFFERED', 'ACTIVE', 'PARKED', 'WRAP']);

type Ref = { id: string; state?: InteractionState | null };

const interactionKey = (cache: Cache, id: string) =>
  cache.keyOfEntity({ __typename: 'Interaction', id });

/** Adds or removes the interaction in `myInteractions` by its state (when the log is loaded). */
function placeInLog(cache: Cache, interaction: Ref, belongs: boolean) {
  const list = cache.resolve('Query', 'myInteractions');
  // Not loaded yet: its own query will fetch the truth.
  if (!Array.isArray(list)) return;
  const key = interactionKey(cache, interaction.id);
  if (!key) return;
  const present = (list as unknown[]).includes(key);
  if (belongs && !present) cache.link('Query', 'myInteractions', [...(list as string[]), key]);
  if (!belongs && present)
    cache.link(
      'Query',
      'myInteractions',
      (list as string[]).filter((k) => k !== key),
    );
}

/**
 * Capacity `used` changes with offers, completions and returns to the queue; dropping the field
 * makes graphcache refetch the header's query instead of guessing the count here.
 */
function invalidateCapacity(cache: Cache) {
  const me = cache.resolve('Query', 'me');
  if (typeof me === 'string') cache.invalidate(me, 'capacity');
}

interface MessageRef {
  __typename?: string;
  id: string;
  interactionId: string;
  sentAt: string;
}

/** Points the interaction's card at a message unless it already shows a newer one. */
function showAsLastMessage(cache: Cache, message: MessageRef | null | undefined) {
  if (!message) return;
  const key = interactionKey(cache, message.interactionId);
  if (!key) return;
  const current = cache.resolve(key, 'lastMessage');
  if (typeof current === 'string') {
    const currentSentAt = cache.resolve(current, 'sentAt');
    if (typeof currentSentAt === 'string' && Date.parse(currentSentAt) > Date.parse(message.sentAt))
      return;
  }
  cache.link(key, 'lastMessage', { __typename: 'Message', id: message.id });
}

function payload<T>(result: Record<string, unknown>, field: string): T | null {
  return (result[field] as T | null | undefined) ?? null;
}

interface InteractionPayloadData {
  interaction?: Ref | null;
  userErrors?: unknown[];
}

export const cacheConfig: CacheExchangeOpts = {
  keys: {
    ChannelCapacity: () => null,
    DispositionCode: () => null,
    Contact: () => null,
    UserError: () => null,
    PageInfo: () => null,
    MessageConnection: () => null,
    MessageEdge: () => null,
    InteractionConnection: () => null,
    InteractionEdge: () => null,
    LoginPayload: () => null,
    SetPresencePayload: () => null,
    OfferPayload: () => null,
    InteractionPayload: () => null,
    SendMessagePayload: () => null,
    StartWebchatPayload: () => null,
    WebchatPayload: () => null,
    OfferEvent: () => null,
  },
  resolvers: {
    // Transcript pages fetched with `after` merge into one list (see interaction/useTranscript).
    Interaction: { transcript: relayPagination() },
    WebchatSession: { messages: relayPagination() },
  },
  updates: {
    Subscription: {
      offers(result, _args, cache) {
        const event = payload<{
          kind: string;
          offer: { id: string; interaction: Ref };
        }>(result, 'offers');
        if (!event) return;
        const { interaction } = event.offer;
        if (event.kind === 'OFFERED') {
          // The offer belongs to the interaction while it is on offer, whatever the server
          // resolves for Interaction.offer inside the event.
          if (interaction.state === 'OFFERED') {
            const key = interactionKey(cache, interaction.id);
            if (key) cache.link(key, 'offer', { __typename: 'Offer', id: event.offer.id });
          }
          placeInLog(cache, interaction, true);
        } else {
          placeInLog(cache, interaction, false);
        }
        invalidateCapacity(cache);
      },
      interactionUpdates(result, _args, cache) {
        const interaction = payload<Ref>(result, 'interactionUpdates');
        if (!interaction?.state) return;
        placeInLog(cache, interaction, IN_LOG.has(interaction.state));
        invalidateCapacity(cache);
      },
      messages(result, _args, cache) {
        showAsLastMessage(cache, payload<MessageRef>(result, 'messages'));
      },
    },
    Mutation: {
      rejectOffer(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'rejectOffer');
        if (!data?.interaction?.state || data.userErrors?.length) return;
        placeInLog(cache, data.interaction, IN_LOG.has(data.interaction.state));
        invalidateCapacity(cache);
      },
      completeInteraction(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'completeInteraction');
        if (!data?.interaction?.state || data.userErrors?.length) return;
        placeInLog(cache, data.interaction, IN_LOG.has(data.interaction.state));
        invalidateCapacity(cache);
      },
      sendMessage(result, _args, cache) {
        const data = payload<{ message?: MessageRef | null }>(result, 'sendMessage');
        showAsLastMessage(cache, data?.message);
      },
    },
  },
};

