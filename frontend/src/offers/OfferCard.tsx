import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { formatClock, secondsUntil } from '../clock/format';
import { useNow } from '../clock/useNow';
import { graphql } from '../gql';
import type { LogCardFragment } from '../gql/graphql';
import { ChannelTag, contactName } from '../log/channel';

const AcceptOfferMutation = graphql(`
  mutation AcceptOffer($input: OfferInput!) {
    acceptOffer(input: $input) {
      interaction {
        ...LogInteraction
      }
      userErrors {
        code
        message
      }
    }
  }
`);

const RejectOfferMutation = graphql(`
  mutation RejectOffer($input: OfferInput!) {
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
`);

/** Seconds left at which the countdown turns urgent. */
const URGENT_SECONDS = 10;

/**
 * An interaction on offer: Accept, Reject (P3) and the time left before it is offered elsewhere
 * (P5). An auto-accepted offer cannot be rejected (P4), so it shows no Reject. A transfer from
 * another agent (T1) is the same card, labelled with who is transferring it; its interaction is
 * still ACTIVE with them until it is accepted, and rejecting it leaves it with them (T6).
 */
export function OfferCard({
  interaction,
  onAccepted,
}: {
  interaction: LogCardFragment;
  onAccepted: (interactionId: string) => void;
}) {
  const titleId = useId();
  const fromId = useId();
  const offer = interaction.offer;
  const transferredBy = offer?.transferredBy ?? null;
  const answerable = interaction.state === 'OFFERED' || transferredBy !== null;
  const [error, setError] = useState<string | null>(null);
  const [accepting, accept] = useMutation(AcceptOfferMutation);
  const [rejecting, reject] = useMutation(RejectOfferMutation);
  const now = useNow();
  const left = offer?.expiresAt ? secondsUntil(offer.expiresAt, now) : null;
  // At zero the server is about to offer it elsewhere; answering now can only fail.
  const expired = !offer?.autoAccepted && left === 0;
  const busy = accepting.fetching || rejecting.fetching || expired;
  const name = contactName(interaction.contact);

  async function onAccept() {
    if (!offer) return;
    setError(null);
    const result = await accept({ input: { offerId: offer.id } });
    const userError = result.data?.acceptOffer.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('The offer could not be accepted. Try again.');
    else onAccepted(interaction.id);
  }

  async function onReject() {
    if (!offer) return;
    setError(null);
    const result = await reject({ input: { offerId: offer.id } });
    const userError = result.data?.rejectOffer.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('The offer could not be rejected. Try again.');
  }

  return (
    <article
      className="card-item offer-card"
      aria-labelledby={titleId}
      aria-describedby={transferredBy ? fromId : undefined}
      data-transfer={transferredBy ? true : undefined}
    >
      <div className="card-item__top">
        <ChannelTag channel={interaction.channel} />
        <span className="badge badge--offer">{transferredBy ? 'Transfer' : 'Offered'}</span>
      </div>
      <h3 id={titleId} className="card-item__contact">
        {name}
      </h3>
      {transferredBy && (
        <p id={fromId} className="offer-card__from">
          Transfer from <strong>{transferredBy.name}</strong>
        </p>
      )}
      {interaction.lastMessage && (
        <p className="card-item__preview">{interaction.lastMessage.text}</p>
      )}
      {offer?.autoAccepted ? (
        <p className="offer-card__auto">Accepted automatically</p>
      ) : (
        left !== null && <OfferCountdown left={left} />
      )}
      {error && (
        <p className="card-item__error" role="alert">
          {error}
        </p>
      )}
      <div className="offer-card__actions">
        {answerable && (
          <button
            type="button"
            className="button button--primary"
            onClick={onAccept}
            disabled={busy || !offer}
            aria-describedby={titleId}
          >
            Accept
          </button>
        )}
        {!offer?.autoAccepted && (
          <button
            type="button"
            className="button"
            onClick={onReject}
            disabled={busy || !offer}
            aria-describedby={titleId}
          >
            Reject
          </button>
        )}
      </div>
    </article>
  );
}

function OfferCountdown({ left }: { left: number }) {
  return (
    <p className="offer-card__countdown" data-urgent={left <= URGENT_SECONDS}>
      {left > 0 ? (
        <>
          Expires in <span role="timer">{formatClock(left)}</span>
        </>
      ) : (
        'Offer expired'
      )}
    </p>
  );
}
