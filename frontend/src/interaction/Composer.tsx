import { useEffect, useId, useImperativeHandle, useRef, useState, type KeyboardEvent, type Ref } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { Channel, InteractionState } from '../gql/graphql';
import { noTemplate, TemplatePicker, type TemplateChoice } from '../templates/TemplatePicker';
import { parametersFor, templateProblem } from '../templates/template';
import { useFreeTextOpen } from '../whatsapp/window';

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
        field
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

/** What the transcript may ask of the reply box: a failed message's text back, to change it (E5). */
export interface ComposerHandle {
  edit(text: string): void;
}

/** WhatsApp's 24-hour window (O2), for a WhatsApp interaction. */
export interface WhatsAppWindow {
  /** Until when free text may be sent; null when only templates may be. */
  freeTextUntil: string | null | undefined;
  /** The identity whose approved templates may be sent. */
  identityId: string | null | undefined;
  /** Why only templates may be sent, shown while the window is closed. */
  closedReason: string;
}

/**
 * The reply box: Enter sends, Shift+Enter adds a line (H1). It accepts text only while the
 * interaction is ACTIVE and this agent's (`closedReason` says why it no longer is, e.g. after
 * an accepted transfer, T5); the text stays in the box until the server has stored it.
 *
 * On WhatsApp, outside the 24-hour window (`whatsApp.freeTextUntil` null or past) it offers the
 * identity's approved templates instead and says why (O2); it switches by itself when the window
 * closes. A failed message's Edit puts its text back here (`ref.edit`, E5).
 */
export function Composer({
  interactionId,
  state,
  closedReason,
  onSent,
  autoFocus = false,
  channel,
  whatsApp,
  ref,
}: {
  interactionId: string;
  state: InteractionState;
  closedReason?: string;
  onSent?: () => void;
  /** Take the focus once the box is open (e.g. right after accepting an offer). */
  autoFocus?: boolean;
  channel?: Channel;
  whatsApp?: WhatsAppWindow;
  ref?: Ref<ComposerHandle>;
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
  const windowOpen = useFreeTextOpen(whatsApp?.freeTextUntil);
  const templatesOnly = channel === 'WHATSAPP' && !windowOpen;

  useEffect(() => {
    if (!autoFocus || !enabled || focused.current || templatesOnly) return;
    focused.current = true;
    inputRef.current?.focus();
  }, [autoFocus, enabled, templatesOnly]);

  function setText(value: string) {
    drafts.set(interactionId, value);
    setTextState(value);
  }

  useImperativeHandle(
    ref,
    () => ({
      edit(value: string) {
        drafts.set(interactionId, value);
        setTextState(value);
        setError(null);
        // After React has rendered the text: the caret at its end, ready to change it.
        requestAnimationFrame(() => {
          const box = inputRef.current;
          if (!box || box.disabled) return;
          box.focus();
          box.setSelectionRange(value.length, value.length);
        });
      },
    }),
    [interactionId],
  );

  if (templatesOnly && enabled)
    return (
      <TemplateComposer
        interactionId={interactionId}
        identityId={whatsApp?.identityId ?? null}
        reason={whatsApp?.closedReason ?? 'WhatsApp allows only an approved template until the customer replies.'}
        draft={text}
        onSent={onSent}
      />
    );

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

/**
 * The reply box outside WhatsApp's 24-hour window (O2): an approved template with its
 * parameters, sent as `sendMessage(text: "", templateId, templateParameters)`. It says why free
 * text is closed; a refusal from the server (e.g. OUTSIDE_WINDOW) shows as any other.
 */
function TemplateComposer({
  interactionId,
  identityId,
  reason,
  draft,
  onSent,
}: {
  interactionId: string;
  identityId: string | null;
  reason: string;
  draft: string;
  onSent?: () => void;
}) {
  const reasonId = useId();
  const hintId = useId();
  const [choice, setChoice] = useState<TemplateChoice>(noTemplate);
  const [error, setError] = useState<string | null>(null);
  const [templateError, setTemplateError] = useState<string | null>(null);
  const [{ fetching }, send] = useMutation(SendMessageMutation);
  const problem = templateProblem(choice.template, choice.parameters);
  const canSend = identityId !== null && problem === null && !fetching;

  async function submit() {
    if (!canSend || !choice.template) return;
    setError(null);
    setTemplateError(null);
    const result = await send({
      input: {
        interactionId,
        text: '',
        templateId: choice.template.id,
        templateParameters: parametersFor(choice.template, choice.parameters),
      },
    });
    const userError = result.data?.sendMessage.userErrors[0];
    if (userError) {
      if (userError.field?.[0] === 'templateId' || userError.field?.[0] === 'templateParameters')
        setTemplateError(userError.message);
      else setError(userError.message);
    } else if (result.error || !result.data?.sendMessage.message)
      setError('The template was not sent. Check the connection and try again.');
    else {
      setChoice(noTemplate);
      onSent?.();
    }
  }

  return (
    <form
      className="composer composer--template"
      aria-describedby={reasonId}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <p id={reasonId} className="composer__window">
        {reason}
        {draft.trim() !== '' && ' Your unsent text stays here for when they do.'}
      </p>
      {identityId ? (
        <TemplatePicker identityId={identityId} value={choice} onChange={setChoice} error={templateError} />
      ) : (
        <p className="form-error">This conversation has no WhatsApp number to send a template from.</p>
      )}
      <div className="composer__bar">
        <span id={hintId} className="composer__hint muted">
          {problem ?? 'The customer gets this template; their reply opens 24 hours of free text.'}
        </span>
        {error && (
          <span className="composer__error" role="alert">
            {error}
          </span>
        )}
        <button type="submit" className="button button--primary" disabled={!canSend} aria-describedby={hintId}>
          Send template
        </button>
      </div>
    </form>
  );
}
