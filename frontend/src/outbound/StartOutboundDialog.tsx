import { useId, useRef, useState, type KeyboardEvent } from 'react';
import { Modal } from '../modal/Modal';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { MAX_MESSAGE_LENGTH } from '../interaction/Composer';
import { channelLabel } from '../log/channel';
import { noTemplate, TemplatePicker, type TemplateChoice } from '../templates/TemplatePicker';
import { parametersFor, templateProblem } from '../templates/template';
import { normalisePhone, phoneProblem } from './phone';
import { MySignatureQuery } from '../email/EmailComposer';
import { RichTextEditor } from '../email/RichTextEditor';
import { htmlText, isEmptyHtml, recipientProblem, replyHtml, subjectProblem } from '../email/signature';

export const OutboundIdentitiesQuery = graphql(`
  query OutboundIdentities($channel: Channel!) {
    channelIdentities(channel: $channel, outboundOnly: true) {
      id
      channel
      name
      address
    }
  }
`);

const StartOutboundMutation = graphql(`
  mutation StartOutbound($input: StartOutboundInput!) {
    startOutbound(input: $input) {
      interaction {
        ...LogInteraction
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

/** The channels an agent starts from the desk (C1): SMS (O1), WhatsApp (O2) and email (O3, E3). */
export type OutboundChannel = 'SMS' | 'WHATSAPP' | 'EMAIL';

/** Where a refusal shows: next to the field the server names, else above the buttons. */
type Place = 'identity' | 'to' | 'text' | 'template' | 'subject' | 'general';

function placeOf(field: readonly string[] | null | undefined, channel: OutboundChannel): Place {
  switch (field?.[0]) {
    case 'identityId':
      return 'identity';
    case 'to':
      return 'to';
    case 'text':
      return channel === 'SMS' ? 'text' : 'template';
    case 'templateId':
    case 'templateParameters':
      return 'template';
    case 'subject':
      return 'subject';
    case 'html':
      return 'text';
    default:
      return 'general';
  }
}

export interface StartProblemInput {
  channel: OutboundChannel;
  identityId: string | null;
  to: string;
  text: string;
  choice: TemplateChoice;
  /** Email: the subject and the rich-text body's HTML. */
  subject?: string;
  html?: string;
}

/**
 * Why the start button is disabled, in the order the form is filled in, or null when the
 * conversation can start: a From number, a valid recipient (E.164), then the message (SMS) or
 * a template with every parameter (WhatsApp).
 */
export function startProblem({ channel, identityId, to, text, choice, subject = '', html = '' }: StartProblemInput): string | null {
  if (channel === 'EMAIL') {
    if (!identityId) return 'Choose the address to send from.';
    return recipientProblem(to) ?? subjectProblem(subject) ?? (isEmptyHtml(html) ? 'Write the message.' : null);
  }
  if (!identityId) return `Choose the ${channelLabel[channel]} number to send from.`;
  const phone = phoneProblem(to);
  if (phone) return phone;
  if (channel === 'SMS') {
    if (text.trim() === '') return 'Write the message.';
    if (text.length > MAX_MESSAGE_LENGTH) return `The message is too long: ${text.length} of ${MAX_MESSAGE_LENGTH} characters.`;
    return null;
  }
  return templateProblem(choice.template, choice.parameters);
}

/**
 * Initiate SMS interaction / Initiate WhatsApp interaction (C1, O1, O2, S8, S9): the From
 * number (identities configured for outbound use, with name and number), the recipient's
 * number, and the message (SMS) or an approved template with its parameters and a preview
 * (WhatsApp). The button stays disabled until all of it is valid and says why; the server's
 * refusals (ALREADY_OPEN, NO_CAPACITY, INVALID…) show next to the field they name. On success
 * the new ACTIVE interaction opens.
 */
export function StartOutboundDialog({
  channel,
  onClose,
  onStarted,
}: {
  channel: OutboundChannel;
  onClose: () => void;
  onStarted: (interactionId: string) => void;
}) {
  const fromId = useId();
  const fromErrorId = useId();
  const toId = useId();
  const toHintId = useId();
  const toErrorId = useId();
  const textId = useId();
  const textErrorId = useId();
  const reasonId = useId();
  const fromRef = useRef<HTMLSelectElement>(null);
  const [chosenIdentity, setChosenIdentity] = useState<string | null>(null);
  const [to, setTo] = useState('');
  const [toTouched, setToTouched] = useState(false);
  const [text, setText] = useState('');
  const [choice, setChoice] = useState<TemplateChoice>(noTemplate);
  const [subject, setSubject] = useState('');
  const [html, setHtml] = useState('');
  const subjectId = useId();
  const subjectErrorId = useId();
  const [signatureData] = useQuery({ query: MySignatureQuery, pause: channel !== 'EMAIL' });
  const signature = signatureData.data?.me?.signature ?? '';
  const email = channel === 'EMAIL';
  const [errors, setErrors] = useState<Partial<Record<Place, string>>>({});
  const [{ fetching: starting }, start] = useMutation(StartOutboundMutation);
  const [identities, reloadIdentities] = useQuery({ query: OutboundIdentitiesQuery, variables: { channel } });

  const list = identities.data?.channelIdentities ?? [];
  const identityId = list.some((i) => i.id === chosenIdentity) ? chosenIdentity : (list[0]?.id ?? null);
  const label = channelLabel[channel];
  const problem = startProblem({ channel, identityId, to, text, choice, subject, html });
  const toProblem = email ? recipientProblem(to) : phoneProblem(to);
  const showToProblem = toProblem !== null && (toTouched || to.trim() !== '');
  const blocked = problem ?? (starting ? 'Starting…' : null);
  // The reason is the recipient's number and already shows under it: not twice.
  const reasonUnderTo = problem !== null && showToProblem && problem === toProblem;

  function clear(place: Place) {
    setErrors((current) => {
      if (!current[place] && !current.general) return current;
      const next = { ...current };
      delete next[place];
      delete next.general;
      return next;
    });
  }

  async function submit() {
    if (problem || starting || !identityId) return;
    setErrors({});
    const body = replyHtml(html, signature);
    const input = email
      ? { channel, identityId, to: to.trim(), subject, html: body, text: htmlText(body) }
      : channel === 'SMS'
        ? { channel, identityId, to: normalisePhone(to)!, text: text.trim() }
        : {
            channel,
            identityId,
            to: normalisePhone(to)!,
            templateId: choice.template!.id,
            templateParameters: parametersFor(choice.template!, choice.parameters),
          };
    const result = await start({ input });
    const payload = result.data?.startOutbound;
    if (payload?.userErrors.length) {
      const next: Partial<Record<Place, string>> = {};
      for (const e of payload.userErrors) {
        const place = placeOf(e.field, channel);
        next[place] = next[place] ? `${next[place]} ${e.message}` : e.message;
      }
      setErrors(next);
      return;
    }
    if (!payload?.interaction) {
      setErrors({
        general:
          result.error?.graphQLErrors[0]?.message ??
          `The ${label} conversation could not be started. Check the connection and try again.`,
      });
      return;
    }
    onStarted(payload.interaction.id);
  }

  function onTextKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // As in the reply box (H1): Enter sends, Shift+Enter adds a line.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void submit();
  }

  const noIdentities = identities.data !== undefined && list.length === 0;

  return (
    <Modal
      className="outbound-dialog"
      title={<>Initiate {label} interaction</>}
      sub={
        email
          ? 'Email one customer from one of your outbound addresses: one recipient, no CC or BCC.'
          : channel === 'SMS'
          ? 'Text a customer from one of your outbound numbers.'
          : 'WhatsApp conversations start with an approved template: free text opens once the customer replies.'
      }
      onClose={onClose}
      initialFocus={fromRef}
    >
      <form
        className="outbound-dialog__form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label htmlFor={fromId}>From</label>
          <select
            ref={fromRef}
            id={fromId}
            value={identityId ?? ''}
            aria-describedby={errors.identity ? fromErrorId : undefined}
            aria-invalid={errors.identity ? true : undefined}
            onChange={(event) => {
              setChosenIdentity(event.target.value);
              setChoice(noTemplate);
              clear('identity');
            }}
          >
            {list.length === 0 && (
              <option value="">{identities.fetching ? 'Loading…' : email ? 'No outbound address' : 'No outbound number'}</option>
            )}
            {list.map((identity) => (
              <option key={identity.id} value={identity.id}>
                {identity.name} · {identity.address}
              </option>
            ))}
          </select>
          {noIdentities && (
            <p className="field__note muted">
              No {label} number is set up for outbound messages. A supervisor can set one up.
            </p>
          )}
          {identities.error && !identities.data && (
            <p className="field-error" role="alert">
              The numbers could not be loaded.{' '}
              <button
                type="button"
                className="button button--small"
                onClick={() => reloadIdentities({ requestPolicy: 'network-only' })}
              >
                Try again
              </button>
            </p>
          )}
          {errors.identity && (
            <p id={fromErrorId} className="field-error" role="alert">
              {errors.identity}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor={toId}>To</label>
          <input
            id={toId}
            type={email ? 'email' : 'tel'}
            inputMode={email ? 'email' : 'tel'}
            autoComplete="off"
            placeholder={email ? 'name@example.com' : '+44 7700 900123'}
            value={to}
            aria-invalid={showToProblem || errors.to ? true : undefined}
            aria-describedby={[toHintId, errors.to ? toErrorId : ''].filter(Boolean).join(' ')}
            onChange={(event) => {
              setTo(event.target.value);
              clear('to');
            }}
            onBlur={() => setToTouched(true)}
          />
          <p id={toHintId} className={showToProblem ? 'field__note field__note--problem' : 'field__note muted'}>
            {showToProblem
              ? toProblem
              : email
                ? "The customer's email address: exactly one."
                : "The customer's mobile number in international form, e.g. +44 7700 900123."}
          </p>
          {errors.to && (
            <p id={toErrorId} className="field-error" role="alert">
              {errors.to}
            </p>
          )}
        </div>
        {email ? (
          <>
            <div className="field">
              <label htmlFor={subjectId}>Subject</label>
              <input
                id={subjectId}
                value={subject}
                aria-invalid={errors.subject ? true : undefined}
                aria-describedby={errors.subject ? subjectErrorId : undefined}
                onChange={(event) => {
                  setSubject(event.target.value);
                  clear('subject');
                }}
              />
              {errors.subject && (
                <p id={subjectErrorId} className="field-error" role="alert">
                  {errors.subject}
                </p>
              )}
            </div>
            <div className="field">
              <span className="field__label">Message</span>
              <RichTextEditor
                label="Message"
                initialHtml=""
                onChange={(value) => {
                  setHtml(value);
                  clear('text');
                }}
                footer={
                  signature ? (
                    <div className="email-composer__signature" aria-label="Your signature">
                      <div dangerouslySetInnerHTML={{ __html: signature }} />
                    </div>
                  ) : null
                }
              />
              {errors.text && (
                <p id={textErrorId} className="field-error" role="alert">
                  {errors.text}
                </p>
              )}
            </div>
          </>
        ) : channel === 'SMS' ? (
          <div className="field">
            <label htmlFor={textId}>Message</label>
            <textarea
              id={textId}
              rows={4}
              value={text}
              aria-invalid={text.length > MAX_MESSAGE_LENGTH || errors.text ? true : undefined}
              aria-describedby={errors.text ? textErrorId : undefined}
              onChange={(event) => {
                setText(event.target.value);
                clear('text');
              }}
              onKeyDown={onTextKeyDown}
            />
            {errors.text && (
              <p id={textErrorId} className="field-error" role="alert">
                {errors.text}
              </p>
            )}
          </div>
        ) : (
          identityId && (
            <TemplatePicker
              key={identityId}
              identityId={identityId}
              value={choice}
              onChange={(next) => {
                setChoice(next);
                clear('template');
              }}
              error={errors.template}
            />
          )
        )}
        {errors.general && (
          <p className="form-error" role="alert">
            {errors.general}
          </p>
        )}
        <footer className="modal__footer outbound-dialog__footer">
          {problem && !reasonUnderTo && (
            <p id={reasonId} className="outbound-dialog__why">
              {problem}
            </p>
          )}
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="button button--primary"
            aria-disabled={blocked !== null}
            aria-describedby={problem ? (reasonUnderTo ? toHintId : reasonId) : undefined}
          >
            {starting ? 'Starting…' : channel === 'WHATSAPP' ? 'Start Chat' : 'Send'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
