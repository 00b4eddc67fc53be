import { useEffect, useId, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { formatClock, secondsUntil } from '../clock/format';
import { useNow } from '../clock/useNow';
import { graphql } from '../gql';
import type { LogInteractionFragment } from '../gql/graphql';
import { DispositionPicker } from './DispositionPicker';
import { InsertSummaryButton } from './InsertSummary';
import { NotesField } from './NotesField';
import { useNotes, type Notes } from './useNotes';

const ExtendWrapMutation = graphql(`
  mutation ExtendWrap($input: InteractionInput!) {
    extendWrap(input: $input) {
      interaction {
        id
        wrapDeadline
      }
      userErrors {
        code
        message
      }
    }
  }
`);

const CompleteInteractionMutation = graphql(`
  mutation CompleteInteraction($input: InteractionInput!) {
    completeInteraction(input: $input) {
      interaction {
        id
        state
        completedAt
        notes
        dispositions {
          code
          label
        }
      }
      userErrors {
        code
        message
      }
    }
  }
`);

/** Why Complete cannot be pressed yet, or null when it can. */
export function completeBlockedReason(interaction: LogInteractionFragment): string | null {
  if (interaction.plan?.dispositionRequired && interaction.dispositions.length === 0)
    return 'Choose at least one disposition code to complete: this plan requires one.';
  return null;
}

/**
 * Logging the interaction: notes and a disposition code while ACTIVE (H2), shown read-only
 * while PARKED or once handed over; in WRAP the wrap-up
 * panel with several codes, notes, the wrap countdown with Extend when codes are optional, and
 * Complete, which saves everything and removes the card (W3, W5). When the interaction enters
 * WRAP while open, focus moves here.
 */
export function LogChat({
  interaction,
  readOnly = false,
  onCompleted,
}: {
  interaction: LogInteractionFragment;
  /** Parked or handed over: the server keeps notes and codes as they are until then. */
  readOnly?: boolean;
  onCompleted: (interactionId: string) => void;
}) {
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const notes = useNotes(interaction.id, interaction.notes);
  const wrapping = interaction.state === 'WRAP';

  const previousState = useRef(interaction.state);
  useEffect(() => {
    if (previousState.current !== 'WRAP' && interaction.state === 'WRAP') headingRef.current?.focus();
    previousState.current = interaction.state;
  }, [interaction.state]);

  return (
    <section className="log-chat" aria-labelledby={headingId} data-wrap={wrapping || undefined}>
      <h2 id={headingId} ref={headingRef} tabIndex={-1} className="panel-title">
        {wrapping ? 'Wrap up' : 'Log'}
      </h2>
      {wrapping && !interaction.plan?.dispositionRequired && interaction.wrapDeadline && (
        <WrapCountdown interactionId={interaction.id} deadline={interaction.wrapDeadline} />
      )}
      <DispositionPicker interaction={interaction} disabled={readOnly} />
      <NotesField notes={notes} disabled={readOnly} />
      {!readOnly && interaction.plan?.summaryAssist && <InsertSummaryButton interactionId={interaction.id} notes={notes} />}
      {readOnly && interaction.state === 'PARKED' && (
        <p className="muted log-chat__hint">Notes and codes can be changed again once the contact replies.</p>
      )}
      {wrapping && <CompleteControl interaction={interaction} notes={notes} onCompleted={onCompleted} />}
    </section>
  );
}

function WrapCountdown({ interactionId, deadline }: { interactionId: string; deadline: string }) {
  const left = secondsUntil(deadline, useNow());
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, extend] = useMutation(ExtendWrapMutation);

  async function onExtend() {
    setError(null);
    const result = await extend({ input: { interactionId } });
    const userError = result.data?.extendWrap.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('Wrap-up could not be extended. Try again.');
  }

  return (
    <div className="wrap-countdown" data-urgent={left <= 10}>
      <p>
        {left > 0 ? (
          <>
            Wrap-up ends in <span role="timer">{formatClock(left)}</span>
          </>
        ) : (
          'Wrap-up time is up: completing with what was entered…'
        )}
      </p>
      <button type="button" className="button" onClick={onExtend} disabled={fetching || left === 0}>
        Extend
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function CompleteControl({
  interaction,
  notes,
  onCompleted,
}: {
  interaction: LogInteractionFragment;
  notes: Notes;
  onCompleted: (interactionId: string) => void;
}) {
  const tooltipId = useId();
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, complete] = useMutation(CompleteInteractionMutation);
  const blocked = completeBlockedReason(interaction);

  async function onComplete() {
    if (blocked || fetching) return;
    setError(null);
    if (!(await notes.flush())) {
      setError('Notes are not saved yet, so the interaction was not completed. Try again.');
      return;
    }
    const result = await complete({ input: { interactionId: interaction.id } });
    const userError = result.data?.completeInteraction.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('The interaction could not be completed. Try again.');
    else onCompleted(interaction.id);
  }

  // aria-disabled rather than disabled: the button stays focusable so keyboard and screen-reader
  // users reach the reason, which is its description and a tooltip on hover and focus.
  return (
    <div className="complete">
      <span className="tooltip-anchor">
        <button
          type="button"
          className="button button--primary complete__button"
          aria-disabled={blocked !== null || fetching}
          aria-describedby={blocked ? tooltipId : undefined}
          onClick={onComplete}
        >
          Complete
        </button>
        {blocked && (
          <span id={tooltipId} role="tooltip" className="tooltip">
            {blocked}
          </span>
        )}
      </span>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
