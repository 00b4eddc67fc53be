import { useEffect, useRef } from 'react';
import { useSubscriptionEvents } from '../connection/useSubscriptionEvents';
import { graphql } from '../gql';
import type { DeskEventsSubscription as DeskEventsData } from '../gql/graphql';
import { channelLabel, contactName } from '../log/channel';
import { alertNewOffer, offerAlertBody } from '../offers/alerts';
import { autoParkedMessage, parkedBySystem } from '../parking/autoPark';
import { endedByParkedTimeout, unparkMessage, unparkOutcome } from '../parking/unpark';
import { useToasts } from '../toast/Toasts';
import { transferResultMessage } from '../transfer/transferText';

/**
 * The desk's five feeds on one subscription (one stream per socket on the server instead of
 * five): each event sets one field, the one its own subscription would carry.
 */
const DeskEventsSubscription = graphql(`
  subscription DeskEvents {
    deskEvents {
      offer {
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
            ...LogInteraction
          }
        }
      }
      interactionUpdate {
        ...LogInteraction
        completedAt
      }
      unpark {
        interaction {
          ...LogInteraction
        }
        message {
          ...TranscriptMessage
        }
      }
      transferResult {
        outcome
        reason
        target {
          id
          name
        }
        interaction {
          ...LogInteraction
        }
      }
      deliveryUpdate {
        id
        interactionId
        delivery
        deliveryError {
          kind
          message
          providerCode
        }
      }
    }
  }
`);

type DeskEvent = DeskEventsData['deskEvents'];

export interface DeskEventHandlers {
  /** The signed-in agent. */
  meId: string;
  /** The interaction open in the interaction area, if any. */
  selectedId: string | null;
  select(id: string): void;
  /** Makes a card's wrap badge flash until it is opened (W2). */
  flash(id: string): void;
}

/**
 * The agent's live feeds: offers, interaction updates, unparked interactions and transfer
 * outcomes. Graphcache applies them to the log (cache.ts); this hook tells the agent: toasts for
 * new, withdrawn and lapsed offers and transfers, a chime or desktop notification if enabled,
 * the W2 toast when a contact ends a chat, a chat the system parked for the contact's silence
 * (K2), what a reply did to a parked chat (K4, K6) or its timeout (K5), whether a transfer
 * was accepted (T5, T6), and delivery marks of messages on provider channels: graphcache writes
 * each onto its message by ID, and a failure in a conversation not in focus gets a toast (E5).
 */
export function useDeskEvents({ meId, selectedId, select, flash }: DeskEventHandlers) {
  const toasts = useToasts();
  const selected = useRef(selectedId);
  useEffect(() => {
    selected.current = selectedId;
  }, [selectedId]);
  // Updates can repeat (a notes save, a reconnection); each ending is announced once.
  const announced = useRef(new Set<string>());

  /** Open… in a toast, unless it is about the interaction in focus. */
  const openUnlessFocused = (interaction: { id: string }) =>
    selected.current === interaction.id ? undefined : openAction(interaction, select);

  const onOffer = (event: NonNullable<DeskEvent['offer']>) => {
    const { offer } = event;
    const interaction = offer.interaction;
    const name = contactName(interaction.contact);
    // "chat", "email", but "SMS" and "WhatsApp" keep their capitals mid-sentence.
    const label = channelLabel[interaction.channel];
    const channel = /[A-Z].*[A-Z]/.test(label) ? label : label.toLowerCase();
    const from = offer.transferredBy?.name;
    switch (event.kind) {
      case 'OFFERED': {
        const body = offerAlertBody(name, interaction.lastMessage?.text);
        if (from) {
          alertNewOffer(`Transfer from ${from}`, body);
          toasts.show({ message: `Transfer from ${from}: ${channel} with ${name}.`, timeoutMs: 5000 });
          break;
        }
        alertNewOffer(offer.autoAccepted ? `New ${channel}, accepted automatically` : `New ${channel} offer`, body);
        if (offer.autoAccepted) {
          if (selected.current === null) select(interaction.id);
          toasts.show({
            message: `New ${channel} from ${name}, accepted automatically.`,
            action: openUnlessFocused(interaction),
          });
        } else {
          toasts.show({ message: `New ${channel} offer from ${name}.`, timeoutMs: 5000 });
        }
        break;
      }
      case 'RESCINDED':
        toasts.show({
          message: from ? `${from} withdrew the transfer of ${name}.` : `The offer from ${name} was withdrawn.`,
        });
        break;
      case 'EXPIRED':
        toasts.show({
          message: from
            ? `The transfer of ${name} from ${from} expired: it stays with them.`
            : `The offer from ${name} expired and goes to another agent.`,
        });
        break;
    }
  };

  const onInteractionUpdate = (interaction: NonNullable<DeskEvent['interactionUpdate']>) => {
    // An interaction may be parked more than once: each parking is its own news.
    const key = `${interaction.id}:${interaction.state}${interaction.state === 'PARKED' ? `@${interaction.parkedAt}` : ''}`;
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
    } else if (interaction.state === 'PARKED') {
      announced.current.add(key);
      // The Park button says so itself; the system parking it for silence (K2) is news.
      if (!parkedBySystem(interaction)) return;
      toasts.show({
        message: autoParkedMessage(name, interaction.plan?.autoParkSeconds),
        action: openUnlessFocused(interaction),
        timeoutMs: 15000,
      });
    } else if (endedByParkedTimeout(interaction)) {
      announced.current.add(key);
      if (selected.current !== interaction.id) flash(interaction.id);
      toasts.show({
        message: `No reply from ${name} while parked: the ${channelLabel[interaction.channel].toLowerCase()} ended.`,
        action: openUnlessFocused(interaction),
        timeoutMs: 15000,
      });
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
  };

  const onUnpark = (event: NonNullable<DeskEvent['unpark']>) => {
    const { interaction } = event;
    const outcome = unparkOutcome(interaction, meId);
    const message = unparkMessage(outcome, contactName(interaction.contact), interaction.channel, interaction.plan?.name);
    if (outcome === 'ended') {
      // The interaction update of the same ending says nothing more.
      announced.current.add(`${interaction.id}:WRAP`);
      if (selected.current !== interaction.id) flash(interaction.id);
    }
    toasts.show({
      message,
      action: outcome === 'queued' ? undefined : openUnlessFocused(interaction),
      timeoutMs: outcome === 'queued' ? 8000 : 15000,
    });
  };

  const onTransferResult = (result: NonNullable<DeskEvent['transferResult']>) => {
    const { interaction } = result;
    const message = transferResultMessage(
      result.outcome,
      contactName(interaction.contact),
      result.target?.name,
      interaction.plan?.name,
      result.reason,
    );
    toasts.show({
      message,
      action: result.outcome === 'REJECTED' ? openUnlessFocused(interaction) : undefined,
      timeoutMs: result.outcome === 'REJECTED' ? 15000 : 8000,
    });
  };

  const onDeliveryUpdate = (message: NonNullable<DeskEvent['deliveryUpdate']>) => {
    // Each failure is announced once; a retried message may fail again.
    const key = `${message.id}:FAILED`;
    if (message.delivery !== 'FAILED') {
      announced.current.delete(key);
      return;
    }
    if (announced.current.has(key)) return;
    announced.current.add(key);
    // The transcript in focus shows the failure, with Retry or Edit, under the message itself.
    if (selected.current === message.interactionId) return;
    toasts.show({
      message: `A message was not delivered${message.deliveryError ? `: ${message.deliveryError.message.replace(/\.$/, '')}` : ''}.`,
      action: openAction({ id: message.interactionId }, select),
      timeoutMs: 15000,
    });
  };

  useSubscriptionEvents(DeskEventsSubscription, {}, ({ deskEvents: event }) => {
    if (event.offer) onOffer(event.offer);
    else if (event.interactionUpdate) onInteractionUpdate(event.interactionUpdate);
    else if (event.unpark) onUnpark(event.unpark);
    else if (event.transferResult) onTransferResult(event.transferResult);
    else if (event.deliveryUpdate) onDeliveryUpdate(event.deliveryUpdate);
  });
}

function openAction(interaction: { id: string }, select: (id: string) => void) {
  return { label: 'Open…', onAction: () => select(interaction.id) };
}
