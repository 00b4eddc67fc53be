import type { Cache, CacheExchangeOpts, DataField } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { adminKeys, adminMutationUpdates } from './admin/adminCache';
import { graphql } from './gql';
import type { InteractionState, Party } from './gql/graphql';
import { liveViewKeys, liveViewSubscriptionUpdates } from './supervisor/liveCache';

/**
 * How graphcache keeps the desk's server state: which types are entities, how transcript pages
 * merge, and how offers, updates, messages and mutations change the conversation log. Screens
 * read the cache only; nothing here keeps a second copy of server state.
 */

/** States in which an interaction belongs in the agent's conversation log. */
const IN_LOG: ReadonlySet<InteractionState> = new Set(['OFFERED', 'ACTIVE', 'PARKED', 'WRAP']);

type Ref = {
  id: string;
  state?: InteractionState | null;
  /** Present when the document selected it: the agent holding the interaction. */
  agent?: { id: string } | null;
  /** Present when the document selected it: the offer made to the signed-in agent. */
  offer?: { id: string } | null;
};

const interactionKey = (cache: Cache, id: string) =>
  cache.keyOfEntity({ __typename: 'Interaction', id });

/**
 * Whether the interaction belongs in the signed-in agent's log: a live state, and either an
 * offer to them (routing's, or a transfer another agent is offering while still holding it) or
 * held by them. Once a transfer is accepted the interaction stays ACTIVE, with its new holder,
 * so the state alone would keep it in the sender's log (T5). When the document did not select
 * the holder, or the agent is not loaded yet, the state decides.
 */
function belongsInLog(cache: Cache, interaction: Ref): boolean {
  if (!interaction.state || !IN_LOG.has(interaction.state)) return false;
  if (interaction.offer) return true;
  if (interaction.agent === undefined) return true;
  if (interaction.agent === null) return false;
  const me = cache.resolve('Query', 'me');
  return typeof me !== 'string' || me === cache.keyOfEntity({ __typename: 'Agent', id: interaction.agent.id });
}

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
  from?: Party;
  sentAt: string;
}

const AutoParkClockFragment = graphql(`
  fragment AutoParkClock on Interaction {
    id
    lastContactAt
    autoParkAt
  }
`);

/**
 * A contact's message restarts an ACTIVE interaction's auto-park countdown (K2). The server
 * sends no interaction update for it, so the cache moves `autoParkAt` on by the plan's
 * auto-park time itself, as the server does.
 */
function restartAutoPark(cache: Cache, message: MessageRef | null | undefined) {
  if (message?.from !== 'CONTACT') return;
  const key = interactionKey(cache, message.interactionId);
  if (!key || cache.resolve(key, 'state') !== 'ACTIVE') return;
  const plan = cache.resolve(key, 'plan');
  const seconds = typeof plan === 'string' ? cache.resolve(plan, 'autoParkSeconds') : null;
  if (typeof seconds !== 'number' || seconds <= 0) return;
  cache.writeFragment(AutoParkClockFragment, {
    id: message.interactionId,
    lastContactAt: message.sentAt,
    autoParkAt: new Date(Date.parse(message.sentAt) + seconds * 1000).toISOString(),
  });
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

type Delivery = 'PENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';
const DELIVERY_RANK: Record<Delivery, number> = { PENDING: 0, SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4 };

/**
 * The furthest delivery status a deliveryUpdates event told of, per message ID. A transcript
 * page the server read before a receipt can reach the client after that receipt's event, and
 * writing it would move the message's mark back (✓✓ to ✓, for good: no further event comes).
 * The server never moves a status back, except a retry (FAILED to PENDING, which retryMessage
 * answers), so reads show the furthest status seen: this is a floor under the cache, not a
 * second copy of it.
 */
const deliveryFloor = new Map<string, { delivery: Delivery; error: unknown }>();

/** Forgets the floors (a new sign-in starts a new cache). */
export function resetDeliveryFloor(): void {
  deliveryFloor.clear();
}

interface InteractionPayloadData {
  interaction?: Ref | null;
  userErrors?: unknown[];
}

export const cacheConfig: CacheExchangeOpts = {
  keys: {
    ChannelCapacity: () => null,
    DispositionCode: () => null,
    DispositionSuggestion: () => null,
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
    DeskEvent: () => null,
    PendingTransfer: () => null,
    UnparkNotification: () => null,
    TransferResult: () => null,
    DeliveryError: () => null,
    StartOutboundPayload: () => null,
    ...liveViewKeys,
    ...adminKeys,
  },
  resolvers: {
    // Transcript pages fetched with `after` merge into one list (see interaction/useTranscript).
    Interaction: { transcript: relayPagination() },
    WebchatSession: { messages: relayPagination() },
    Message: {
      delivery(parent) {
        const stored = (parent.delivery ?? null) as Delivery | null;
        const floor = deliveryFloor.get(String(parent.id));
        return floor && (!stored || DELIVERY_RANK[floor.delivery] > DELIVERY_RANK[stored]) ? floor.delivery : stored;
      },
      deliveryError(parent, _args, cache, info) {
        const floor = deliveryFloor.get(String(parent.id));
        const stored = (parent.delivery ?? null) as Delivery | null;
        if (floor?.delivery === 'FAILED' && stored !== 'FAILED') return floor.error as never;
        return cache.resolve(info.parentKey, info.fieldName) as never;
      },
    },
  },
  updates: {
    Subscription: {
      ...liveViewSubscriptionUpdates,
      offers(result, _args, cache) {
        const event = payload<{
          kind: string;
          offer: { id: string; transferredBy?: { id: string } | null; interaction: Ref };
        }>(result, 'offers');
        if (!event) return;
        const { interaction } = event.offer;
        if (event.kind === 'OFFERED') {
          // The offer belongs to the interaction while it is on offer, whatever the server
          // resolves for Interaction.offer inside the event. A transfer offer's interaction is
          // ACTIVE (with the sender); an auto-accepted one's is ACTIVE too, but nothing to answer.
          if (interaction.state === 'OFFERED' || event.offer.transferredBy) {
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
        placeInLog(cache, interaction, belongsInLog(cache, interaction));
        invalidateCapacity(cache);
      },
      unparkNotifications(result, _args, cache) {
        const event = payload<{ interaction: Ref; message?: MessageRef | null }>(result, 'unparkNotifications');
        if (!event) return;
        // Back to ACTIVE or WRAP it stays (and changes tab); to the post-parking queue it leaves.
        placeInLog(cache, event.interaction, belongsInLog(cache, event.interaction));
        showAsLastMessage(cache, event.message);
        invalidateCapacity(cache);
      },
      transferResults(result, _args, cache) {
        const event = payload<{ outcome: string; interaction: Ref }>(result, 'transferResults');
        if (!event) return;
        // Accepted: it is no longer ours (T5). Rejected: it stays, ACTIVE with us (T6).
        if (event.outcome === 'ACCEPTED') placeInLog(cache, event.interaction, false);
        invalidateCapacity(cache);
      },
      // The desk's five feeds on one subscription: each event is applied as its own feed's.
      deskEvents(result, args, cache, info) {
        const event = payload<Record<string, DataField>>(result, 'deskEvents');
        if (!event) return;
        const feeds = cacheConfig.updates!.Subscription!;
        const as = (field: string, value: DataField) => feeds[field]!({ [field]: value }, args, cache, info);
        if (event.offer) as('offers', event.offer);
        else if (event.interactionUpdate) as('interactionUpdates', event.interactionUpdate);
        else if (event.unpark) as('unparkNotifications', event.unpark);
        else if (event.transferResult) as('transferResults', event.transferResult);
        else if (event.deliveryUpdate) as('deliveryUpdates', event.deliveryUpdate);
      },
      messages(result, _args, cache) {
        const message = payload<MessageRef>(result, 'messages');
        showAsLastMessage(cache, message);
        restartAutoPark(cache, message);
      },
      // Each event is a Message with its id, so graphcache writes its delivery and
      // deliveryError onto the stored message by itself, and every transcript showing it
      // re-renders; the floor keeps a later, staler page from moving it back.
      deliveryUpdates(result) {
        const event = payload<{ id: string; delivery: Delivery | null; deliveryError?: unknown }>(result, 'deliveryUpdates');
        if (!event?.delivery) return;
        const floor = deliveryFloor.get(event.id);
        if (!floor || DELIVERY_RANK[event.delivery] >= DELIVERY_RANK[floor.delivery]) {
          deliveryFloor.set(event.id, { delivery: event.delivery, error: event.deliveryError ?? null });
        }
      },
    },
    Mutation: {
      ...adminMutationUpdates,
      retryMessage(result) {
        // A retry is the one step back the server takes: FAILED to PENDING.
        const message = payload<{ message?: { id: string } | null }>(result, 'retryMessage')?.message;
        if (message) deliveryFloor.delete(message.id);
      },
      rejectOffer(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'rejectOffer');
        if (!data?.interaction || data.userErrors?.length) return;
        // A rejected offer is never ours: back to its queue (P3), or, for a transfer, still
        // ACTIVE with the agent who offered it (T6).
        placeInLog(cache, data.interaction, false);
        invalidateCapacity(cache);
      },
      parkInteraction(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'parkInteraction');
        if (!data?.interaction || data.userErrors?.length) return;
        // It stays in the log (the Parked tab) and frees its capacity (K1).
        invalidateCapacity(cache);
      },
      transferInteraction(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'transferInteraction');
        if (!data?.interaction?.state || data.userErrors?.length) return;
        // To a plan the queue takes it at once; to an agent it stays ours until they answer.
        placeInLog(cache, data.interaction, belongsInLog(cache, data.interaction));
        invalidateCapacity(cache);
      },
      completeInteraction(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'completeInteraction');
        if (!data?.interaction?.state || data.userErrors?.length) return;
        placeInLog(cache, data.interaction, IN_LOG.has(data.interaction.state));
        invalidateCapacity(cache);
      },
      startOutbound(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'startOutbound');
        if (!data?.interaction?.state || data.userErrors?.length) return;
        // ACTIVE with the caller at once (C1), and it uses their capacity.
        placeInLog(cache, data.interaction, true);
        invalidateCapacity(cache);
      },
      startCall(result, _args, cache) {
        const data = payload<InteractionPayloadData>(result, 'startCall');
        if (!data?.interaction?.state || data.userErrors?.length) return;
        // ACTIVE with the caller at once (X1), and it uses their voice capacity.
        placeInLog(cache, data.interaction, true);
        invalidateCapacity(cache);
      },
      sendMessage(result, _args, cache) {
        const data = payload<{ message?: MessageRef | null }>(result, 'sendMessage');
        showAsLastMessage(cache, data?.message);
      },
    },
  },
};

