import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { InteractionState } from '../gql/graphql';

/** The server's default limit for one message. */
export const MAX_MESSAGE_LENGTH = 4096;

const SendMessageMutation = graphql(`
  mutation SendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
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

/** Why the box is closed, by state, when it is not simply over. */
const closedHint: Partial<Record<InteractionState, string>> = {
  OFFERED: 'Accept the offer to reply.',
  PARKED: 'Parked: replies open again when the contact writes back.',
};

// Unsent replies per interaction, so switching between chats keeps what was typed.
const drafts = new Map<string, string>();

/**
 * The reply box: Enter sends, Shift+Enter adds a line (H1). It accepts text only while the
 * interaction is ACTIVE and this agent's (`closedReason` says why it no longer is, e.g. after
 * an accepted transfer, T5); the text stays in the box until the server has stored it.
 */
export function Composer({
  interactionId,
  state,
  closedReason,
  onSent,
  autoFocus = false,
}: {
  interactionId: string;
  state: InteractionState;
  closedReason?: string;
  onSent?: () => void;
  /** Take the focus once the box is open (e.g. right after accepting an offer). */
  autoFocus?: boolean;
}) {
  const inputId = useId();
  const hintId = useId();
  const [text, setTextState] = useState(() => drafts.get(interactionId) ?? '');
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, send] = useMutation(SendMessageMutation);
  const enabled = state === 'ACTIVE' && !closedReason;
  const tooLong = text.length > MAX_MESSAGE_LENGTH;
  const canSend = enabled && !fetching && !tooLong && text.trim() !== '';
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const focused = useRef(false);

  useEffect(() => {
    if (!autoFocus || !enabled || focused.current) return;
    focused.current = true;
    inputRef.current?.focus();
  }, [autoFocus, enabled]);

  function setText(value: string) {
    drafts.set(interactionId, value);
    setTextState(value);
  }

  async function submit() {
    if (!canSend) return;
    setError(null);
    const result = await send({ input: { interactionId, text: text.trim() } });
    const userError = result.data?.sendMessage.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error || !result.data?.sendMessage.message)
      setError('The message was not sent. Check the connection and try again.');
    else {
      drafts.delete(interactionId);
      setTextState('');
      onSent?.();
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Shift+Enter falls through to the textarea's own newline; Enter while an input method is
    // composing (e.g. Japanese) confirms the composition instead of sending.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void submit();
  }

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label htmlFor={inputId} className="visually-hidden">
        Reply
      </label>
      <textarea
        ref={inputRef}
        id={inputId}
        className="composer__input"
        rows={3}
        value={text}
        disabled={!enabled}
        aria-describedby={hintId}
        aria-invalid={tooLong || undefined}
        placeholder={enabled ? 'Type a reply' : ''}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="composer__bar">
        <span id={hintId} className="composer__hint muted">
          {!enabled
            ? (closedReason ?? closedHint[state] ?? 'This conversation has ended: replies are closed.')
            : tooLong
              ? `Too long: ${text.length} of ${MAX_MESSAGE_LENGTH} characters.`
              : 'Enter sends · Shift+Enter adds a line'}
        </span>
        {error && (
          <span className="composer__error" role="alert">
            {error}
          </span>
        )}
        <button type="submit" className="button button--primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
