import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { DeliveryStatus, TranscriptMessageFragment } from '../gql/graphql';
import { deliveryMarks, failureText, recoveryFor } from './delivery';

const RetryMessageMutation = graphql(`
  mutation RetryMessage($input: RetryMessageInput!) {
    retryMessage(input: $input) {
      message {
        ...TranscriptMessage
      }
      userErrors {
        code
        message
      }
    }
  }
`);

/**
 * Where an agent's message on a provider channel stands: a clock while it is being sent, ✓
 * sent, ✓✓ delivered, ✓✓ in colour once read, ⚠ when it failed. The mark is drawn; its words
 * are what assistive technology reads, and the tooltip.
 */
export function DeliveryMark({ status }: { status: DeliveryStatus }) {
  const mark = deliveryMarks[status];
  return (
    <span className="delivery-mark" data-delivery={status} title={mark.label}>
      <span aria-hidden="true">{mark.glyph}</span>
      <span className="visually-hidden">{mark.label}</span>
    </span>
  );
}

/**
 * Under a FAILED message: why (the provider's words and code), and what to do about it (E5):
 * Retry sends it again unchanged after a temporary failure; Edit puts its text back in the reply
 * box after a content error or a security block. The buttons show only while the agent may
 * still write in the conversation (`canRecover`).
 */
export function DeliveryFailure({
  message,
  canRecover,
  onEdit,
}: {
  message: Pick<TranscriptMessageFragment, 'id' | 'text' | 'deliveryError'> & {
    email?: { html?: string | null } | null;
    attachments?: TranscriptMessageFragment['attachments'];
  };
  canRecover: boolean;
  /** Edit: the text (and an email's HTML and files) go back to the reply box. */
  onEdit?: (text: string, html?: string | null, files?: EditFiles) => void;
}) {
  const textId = useId();
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, retry] = useMutation(RetryMessageMutation);
  const failure = message.deliveryError ?? { kind: 'TEMPORARY' as const, message: 'The provider gave no reason', providerCode: null };
  const recovery = recoveryFor(failure.kind);

  async function onRetry() {
    if (fetching) return;
    setError(null);
    const result = await retry({ input: { messageId: message.id } });
    const userError = result.data?.retryMessage.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error || !result.data?.retryMessage.message)
      setError('It could not be sent again. Check the connection and try again.');
  }

  return (
    <div className="delivery-failure" data-kind={failure.kind}>
      <p id={textId} className="delivery-failure__text">
        {failureText(failure)}
      </p>
      {canRecover &&
        (recovery === 'retry' ? (
          <button
            type="button"
            className="button button--small"
            aria-describedby={textId}
            disabled={fetching}
            onClick={onRetry}
          >
            {fetching ? 'Retrying…' : 'Retry'}
          </button>
        ) : (
          onEdit && (
            <button type="button" className="button button--small" aria-describedby={textId} onClick={() =>
              message.email ? onEdit(message.text, message.email.html, message.attachments ?? []) : onEdit(message.text)
            }>
              Edit
            </button>
          )
        ))}
      {error && (
        <p className="delivery-failure__error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** A failed email's files, which Edit brings back to the composer (E5). */
export type EditFiles = TranscriptMessageFragment['attachments'];
