import { useEffect, useRef } from 'react';
import { useSubscriptionEvents } from '../connection/useSubscriptionEvents';
import { graphql } from '../gql';
import { channelLabel, contactName } from '../log/channel';
import { alertNewOffer } from '../offers/alerts';
import { useToasts } from '../toast/Toasts';

const OffersSubscription = graphql(`
  subscription Offers {
    offers {
      kind
      offer {
        id
        expiresAt
        autoAccepted
        interaction {
          ...LogInteraction
        }
      }
    }
  }
`);

const InteractionUpdatesSubscription = graphql(`
  subscription InteractionUpdates {
    interactionUpdates {
      ...LogInteraction
      completedAt
    }
  }
`);

export interface DeskEventHandlers {
  /** The interaction open in the interaction area, if any. */
  selectedId: string | null;
  select(id: string): void;
  /** Makes a card's wrap badge flash until it is opened (W2). */
  flash(id: string): void;
}

/**
 * The agent's live feeds: offers and interaction updates. Graphcache applies them to the log
 * (cache.ts); this hook tells the agent: toasts for new, withdrawn and lapsed offers, a chime or
 * desktop notification if enabled, and the W2 toast when a contact ends a chat.
 */
export function useDeskEvents({ selectedId, select, flash }: DeskEventHandlers) {
  const toasts = useToasts();
  const selected = useRef(selectedId);
  useEffect(() => {
    selected.current = selectedId;
  }, [selectedId]);
  // Updates can repeat (a notes save, a reconnection); each ending is announced once.
  const announced = useRef(new Set<string>());

  useSubscriptionEvents(OffersSubscription, {}, ({ offers: event }) => {
    const { offer } = event;
    const interaction = offer.interaction;
    const name = contactName(interaction.contact);
    const channel = channelLabel[interaction.channel].toLowerCase();
    switch (event.kind) {
      case 'OFFERED':
        alertNewOffer(`New ${channel} offer`, name);
        if (offer.autoAccepted) {
          if (selected.current === null) select(interaction.id);
          toasts.show({
            message: `New ${channel} from ${name}, accepted automatically.`,
            action: selected.current === interaction.id ? undefined : openAction(interaction, select),
          });
        } else {
          toasts.show({ message: `New ${channel} offer from ${name}.`, timeoutMs: 5000 });
        }
        break;
      case 'RESCINDED':
        toasts.show({ message: `The offer from ${name} was withdrawn.` });
        break;
      case 'EXPIRED':
        toasts.show({ message: `The offer from ${name} expired and goes to another agent.` });
        break;
    }
  });

  useSubscriptionEvents(InteractionUpdatesSubscription, {}, ({ interactionUpdates: interaction }) => {
    const key = `${interaction.id}:${interaction.state}`;
    if (announced.current.has(key)) return;
    const name = contactName(interaction.contact);

    if (interaction.state === 'WRAP' && interaction.endedBy === 'CONTACT') {
      announced.current.add(key);
      const message =
        interaction.channel === 'WEBCHAT'
          ? 'Chat ended by the webchat widget'
          : `${name} ended the conversation`;
      if (selected.current === interaction.id) {
        toasts.show({ message });
      } else {
        flash(interaction.id);
        toasts.show({ message: `${message}: ${name}`, action: openAction(interaction, select), timeoutMs: 15000 });
      }
    } else if (interaction.state === 'COMPLETED' && interaction.wrapDeadline) {
      // Completed by the wrap timer rather than by the agent (W3).
      const due = Date.parse(interaction.wrapDeadline);
      const completed = interaction.completedAt ? Date.parse(interaction.completedAt) : Date.now();
      if (completed >= due - 1000) {
        announced.current.add(key);
        toasts.show({
          message: `Wrap-up time ran out: the ${channelLabel[interaction.channel].toLowerCase()} with ${name} was completed with what was entered.`,
        });
      }
    }
  });
}

function openAction(interaction: { id: string }, select: (id: string) => void) {
  return { label: 'Open…', onAction: () => select(interaction.id) };
}
