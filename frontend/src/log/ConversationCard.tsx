import { useId } from 'react';
import { formatClock, secondsBetween, secondsUntil } from '../clock/format';
import { useNow } from '../clock/useNow';
import type { LogCardFragment } from '../gql/graphql';
import { ParkedCountdown } from '../parking/ParkedCountdown';
import { ChannelTag, contactName } from './channel';

/**
 * One live interaction in the log: channel, contact, latest message, and a live timer: time
 * since it was accepted while ACTIVE, the wrap countdown in WRAP when the plan has one (W3),
 * the countdown to its end while PARKED, red from 10 minutes (K3).
 * The WRAP badge flashes when the contact ended a chat the agent is not looking at (W2).
 */
export function ConversationCard({
  interaction,
  selected,
  flashing,
  onSelect,
}: {
  interaction: LogCardFragment;
  selected: boolean;
  flashing: boolean;
  onSelect: (id: string) => void;
}) {
  const nameId = useId();
  const stateId = useId();
  const previewId = useId();
  const last = interaction.lastMessage;
  const wrapping = interaction.state === 'WRAP';

  return (
    <button
      type="button"
      className="card-item conversation-card"
      aria-current={selected ? 'true' : undefined}
      aria-labelledby={`${nameId} ${stateId}`}
      aria-describedby={last ? previewId : undefined}
      data-interaction-id={interaction.id}
      data-linked={interaction.linkedInteraction?.id}
      onClick={() => onSelect(interaction.id)}
    >
      <span className="card-item__top">
        <ChannelTag channel={interaction.channel} />
        <span id={stateId} className="card-item__state">
          {wrapping ? (
            <span className="badge badge--wrap" data-flash={flashing || undefined}>
              Wrap
            </span>
          ) : interaction.state === 'PARKED' ? (
            <span className="badge badge--parked">Parked</span>
          ) : (
            // An ACTIVE card's timer says "active for" already.
            !(interaction.state === 'ACTIVE' && interaction.acceptedAt) && (
              <span className="visually-hidden">{interaction.state.toLowerCase()}</span>
            )
          )}
          <CardTimer interaction={interaction} />
        </span>
      </span>
      {interaction.linkedInteraction && (
        <span className="card-item__linked" title="A consult call and the conversation it came from">
          Linked
        </span>
      )}
      <span id={nameId} className="card-item__contact">
        {contactName(interaction.contact)}
      </span>
      {last && (
        <span id={previewId} className="card-item__preview">
          {last.from === 'AGENT' && <span className="muted">You: </span>}
          {/* Only files carry no text (C2). */}
          {last.text || <span className="muted">Sent files</span>}
        </span>
      )}
    </button>
  );
}

function CardTimer({ interaction }: { interaction: LogCardFragment }) {
  const now = useNow();
  if (interaction.state === 'PARKED') {
    if (!interaction.parkedUntil) return null;
    return (
      <span className="card-item__timer">
        <ParkedCountdown until={interaction.parkedUntil} />
      </span>
    );
  }
  if (interaction.state === 'WRAP') {
    if (!interaction.wrapDeadline) return null;
    const left = secondsUntil(interaction.wrapDeadline, now);
    return (
      <span className="card-item__timer" data-urgent={left <= 10}>
        <span className="visually-hidden">wrap-up ends in </span>
        {formatClock(left)}
      </span>
    );
  }
  if (!interaction.acceptedAt) return null;
  return (
    <span className="card-item__timer">
      <span className="visually-hidden">active for </span>
      {formatClock(secondsBetween(interaction.acceptedAt, now))}
    </span>
  );
}
