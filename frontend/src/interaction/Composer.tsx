import { useEffect, useId, useImperativeHandle, useRef, useState, type KeyboardEvent, type Ref } from 'react';
import {
  Autocomplete,
  Button,
  Label,
  ListBox,
  ListBoxItem,
  TextArea,
  TextField,
  Tooltip,
  TooltipTrigger,
  type Key,
} from 'react-aria-components';
import { useMutation } from 'urql';
import { sendBlockedReason } from '../attachments/core';
import { AttachButton, DraftChips, useDraftFiles, useFileDrop } from '../attachments/DraftFiles';
import { insertResponse, slashQueryAt, type SlashQuery } from '../canned/slash';
import { useCannedResponses } from '../canned/useCannedResponses';
import '../canned/canned.css';
import { graphql } from '../gql';
import type { Channel, InteractionState } from '../gql/graphql';
import { noTemplate, TemplatePicker, type TemplateChoice } from '../templates/TemplatePicker';
import { parametersFor, templateProblem } from '../templates/template';
import { useFreeTextOpen } from '../whatsapp/window';
import type { EditFiles } from '../delivery/DeliveryMark';
import { replyDrafts } from '../drafts';

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

// Unsent replies per interaction, so switching between chats keeps what was typed (drafts.ts).
const drafts = replyDrafts;

/** What the transcript may ask of the reply box: a failed message's text back, to change it (E5). */
export interface ComposerHandle {
  /** An email's HTML comes too: the email composer takes it instead of the text. */
  edit(text: string, html?: string | null, files?: EditFiles): void;
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
 *
 * Typing `/` at the start or after a space opens the canned responses of the interaction's plan
 * (and the global ones), searched by what follows the slash: the arrow keys move through them
 * while the caret stays in the box, Enter or a click puts the response's text in place of the
 * `/query`, and Escape closes the list and leaves the text as typed.
 *
 * Files are attached with the paperclip or by dropping them on the box (C2, S5): each shows as
 * a chip that uploads at once, with its progress, an image preview, its virus scan and Remove.
 * Files over 25 MB are refused before uploading (E4). Send waits while a file uploads and stays
 * disabled while one is too big, contains malware or failed; hovering or focusing it says why
 * (S6, E5). A reply may be files alone. The files are dropped when the agent switches to another
 * interaction, and nothing keeps them across a reload (S7).
 */
export function Composer({
  interactionId,
  state,
  closedReason,
  onSent,
  autoFocus = false,
  channel,
  whatsApp,
  planId,
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
  /** The interaction's plan, whose canned responses `/` offers (with the global ones). */
  planId?: string | null;
  ref?: Ref<ComposerHandle>;
}) {
  const hintId = useId();
  const [text, setTextState] = useState(() => drafts.get(interactionId) ?? '');
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, send] = useMutation(SendMessageMutation);
  const enabled = state === 'ACTIVE' && !closedReason;
  const tooLong = text.length > MAX_MESSAGE_LENGTH;
  const files = useDraftFiles(interactionId);
  const drop = useFileDrop(attach, enabled);
  const somethingToSend = text.trim() !== '' || files.files.length > 0;
  // Why Send waits although there is something to send: said on hover and focus (S6).
  const blocked = tooLong
    ? `The reply is too long: shorten it to ${MAX_MESSAGE_LENGTH} characters to send.`
    : sendBlockedReason(files.files);
  const canSend = enabled && !fetching && somethingToSend && blocked === null;
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const focused = useRef(false);
  const windowOpen = useFreeTextOpen(whatsApp?.freeTextUntil);
  const templatesOnly = channel === 'WHATSAPP' && !windowOpen;
  // The `/query` the caret is in, and the slash whose list Escape closed.
  const [slash, setSlash] = useState<SlashQuery | null>(null);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const pickerOpen = enabled && slash !== null && slash.start !== dismissed;
  const canned = useCannedResponses(slash?.query ?? '', planId, pickerOpen);

  useEffect(() => {
    if (!autoFocus || !enabled || focused.current || templatesOnly) return;
    focused.current = true;
    inputRef.current?.focus();
  }, [autoFocus, enabled, templatesOnly]);

  function attach(added: File[]) {
    setError(null);
    files.list.add(added);
  }

  function setText(value: string) {
    drafts.set(interactionId, value);
    setTextState(value);
  }

  function typed(value: string) {
    setText(value);
    const next = slashQueryAt(value, inputRef.current?.selectionStart ?? value.length);
    setSlash(next);
    if (next === null) setDismissed(null);
  }

  function pick(key: Key) {
    const response = canned.responses.find((r) => r.id === key);
    if (!response || !slash) return;
    const next = insertResponse(text, slash, response.text);
    setText(next.text);
    setSlash(null);
    setDismissed(null);
    requestAnimationFrame(() => {
      const box = inputRef.current;
      if (!box || box.disabled) return;
      box.focus();
      box.setSelectionRange(next.caret, next.caret);
    });
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
    const attachmentIds = files.list.ids();
    const result = await send({
      input: { interactionId, text: text.trim(), ...(attachmentIds.length > 0 && { attachmentIds }) },
    });
    const userError = result.data?.sendMessage.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error || !result.data?.sendMessage.message)
      setError('The message was not sent. Check the connection and try again.');
    else {
      drafts.delete(interactionId);
      setTextState('');
      files.list.removeSent(attachmentIds);
      onSent?.();
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // The list of canned responses took the key (Enter on a response inserts it).
    if (event.isDefaultPrevented()) return;
    if (event.key === 'Escape' && pickerOpen && slash) {
      event.preventDefault();
      setDismissed(slash.start);
      return;
    }
    // Enter with the list open and no response chosen with the arrows takes the first one; with
    // none matching it sends nothing (Escape first sends the text as typed).
    if (pickerOpen && event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      const first = canned.responses[0];
      if (first) pick(first.id);
      return;
    }
    // Shift+Enter falls through to the textarea's own newline; Enter while an input method is
    // composing (e.g. Japanese) confirms the composition instead of sending.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void submit();
  }

  return (
    <form
      className={`composer${drop.over ? ' composer--dropping' : ''}`}
      {...drop.handlers}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      {drop.over && <p className="composer__drop-hint">Drop the files to attach them</p>}
      <DraftChips files={files.files} onRemove={files.list.remove} />
      <Autocomplete inputValue={text} onInputChange={typed} disableAutoFocusFirst>
        <div className="composer__box">
          <TextField className="composer__field" isDisabled={!enabled} isInvalid={tooLong}>
            <Label className="visually-hidden">Reply</Label>
            <TextArea
              ref={inputRef}
              className="composer__input"
              rows={3}
              aria-describedby={hintId}
              placeholder={enabled ? 'Type a reply, or / for a canned response' : ''}
              onKeyDown={onKeyDown}
            />
          </TextField>
          {pickerOpen && (
            <div className="canned">
              <ListBox
                aria-label="Canned responses"
                className="canned__list"
                items={canned.responses}
                onAction={pick}
                renderEmptyState={() => (
                  <p className="canned__empty muted">
                    {canned.searching
                      ? 'Searching…'
                      : canned.failed
                        ? 'Canned responses could not be loaded.'
                        : slash?.query
                          ? `No canned response matches “${slash.query}”.`
                          : 'No canned responses yet.'}
                  </p>
                )}
              >
                {(response) => (
                  <ListBoxItem id={response.id} textValue={response.title} className="canned__item">
                    <span className="canned__title">{response.title}</span>
                    <span className="canned__text">{response.text}</span>
                  </ListBoxItem>
                )}
              </ListBox>
            </div>
          )}
        </div>
      </Autocomplete>
      <div className="composer__bar">
        <AttachButton onFiles={attach} isDisabled={!enabled} />
        <span id={hintId} className="composer__hint muted">
          {!enabled
            ? (closedReason ?? closedHint[state] ?? 'This conversation has ended: replies are closed.')
            : tooLong
              ? `Too long: ${text.length} of ${MAX_MESSAGE_LENGTH} characters.`
              : pickerOpen
                ? '↑↓ choose a canned response · Enter inserts it (the first unless you choose) · Esc closes'
                : 'Enter sends · Shift+Enter adds a line · / for canned responses'}
        </span>
        {error && (
          <span className="composer__error" role="alert">
            {error}
          </span>
        )}
        <SendButton blocked={enabled && somethingToSend ? blocked : null} isDisabled={!enabled || fetching || !somethingToSend} />
      </div>
    </form>
  );
}

/**
 * Send. With nothing to send, or the box closed, it is simply disabled. With something to send
 * that cannot go yet (a file uploading, too big, infected or failed; text too long) it stays
 * focusable with aria-disabled, and hovering or focusing it shows why in a tooltip (S6).
 */
function SendButton({ blocked, isDisabled }: { blocked: string | null; isDisabled: boolean }) {
  const reasonId = useId();
  return (
    <TooltipTrigger delay={150} closeDelay={0} isDisabled={blocked === null}>
      <Button
        type="submit"
        className="button button--primary"
        isDisabled={isDisabled && blocked === null}
        aria-disabled={blocked !== null ? true : undefined}
        aria-describedby={blocked !== null ? reasonId : undefined}
      >
        Send
      </Button>
      {blocked !== null && (
        <span id={reasonId} className="visually-hidden">
          {blocked}
        </span>
      )}
      <Tooltip className="send-tooltip" placement="top end" offset={6}>
        {blocked}
      </Tooltip>
    </TooltipTrigger>
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
