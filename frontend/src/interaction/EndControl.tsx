import { useEffect, useId, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { formatDuration, secondsBetween } from '../clock/format';
import { useNow } from '../clock/useNow';
import { graphql } from '../gql';
import type { Channel } from '../gql/graphql';

const EndInteractionMutation = graphql(`
  mutation EndInteraction($input: InteractionInput!) {
    endInteraction(input: $input) {
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

/** What the End button names: chats and messages end as a chat, emails and calls as such. */
export function conversationNoun(channel: Channel): string {
  if (channel === 'EMAIL') return 'email';
  if (channel === 'VOICE') return 'call';
  return 'chat';
}

/**
 * End, with a confirmation that shows how long the session has lasted (W1). Confirming moves
 * the interaction to WRAP; the transcript then says who ended it and its total duration.
 */
export function EndControl({
  interactionId,
  channel,
  acceptedAt,
  contactName,
}: {
  interactionId: string;
  channel: Channel;
  acceptedAt: string | null;
  contactName: string;
}) {
  const titleId = useId();
  const descriptionId = useId();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, end] = useMutation(EndInteractionMutation);
  const openRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const noun = conversationNoun(channel);

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  function close() {
    setConfirming(false);
    openRef.current?.focus();
  }

  async function confirm() {
    setError(null);
    const result = await end({ input: { interactionId } });
    const userError = result.data?.endInteraction.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError(`The ${noun} could not be ended. Try again.`);
    else setConfirming(false);
  }

  return (
    <div className="end-control">
      <button
        ref={openRef}
        type="button"
        className="button button--danger"
        aria-expanded={confirming}
        onClick={() => setConfirming(true)}
      >
        End {noun}
      </button>
      {confirming && (
        <div
          className="end-confirm"
          role="alertdialog"
          aria-labelledby={titleId}
          aria-describedby={descriptionId}
          onKeyDown={(event) => {
            if (event.key === 'Escape') close();
          }}
        >
          <p id={titleId} className="end-confirm__title">
            End this {noun}?
          </p>
          <p id={descriptionId}>
            {acceptedAt ? (
              <SessionLength acceptedAt={acceptedAt} contactName={contactName} />
            ) : (
              `The ${noun} with ${contactName} moves to wrap-up.`
            )}
          </p>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="end-confirm__actions">
            <button
              type="button"
              className="button button--danger-solid"
              onClick={confirm}
              disabled={fetching}
            >
              End {noun}
            </button>
            <button ref={cancelRef} type="button" className="button" onClick={close}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function SessionLength({ acceptedAt, contactName }: { acceptedAt: string; contactName: string }) {
  const seconds = secondsBetween(acceptedAt, useNow());
  return (
    <>
      Total duration so far with {contactName}: <strong>{formatDuration(seconds)}</strong>. It
      then moves to wrap-up.
    </>
  );
}
