import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { normalisePhone, phoneProblem } from '../outbound/phone';
import { ATTACH_MAX_BYTES, ATTACH_TYPES, PhoneApiError, readSendFile, type PhoneApi, type PhoneState } from './api';
import { channelName, statusLabel, threadOf, threadSummaries } from './thread';

const STORAGE_KEY = 'agentdesk.phone';
const DEFAULT_PHONE = '+447700900123';

interface Me {
  phone: string;
  name: string;
}

function loadMe(): Me {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Me> | null;
    return { phone: stored?.phone ?? DEFAULT_PHONE, name: stored?.name ?? '' };
  } catch {
    return { phone: DEFAULT_PHONE, name: '' };
  }
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * Polls the simulator's state every `pollMs` while the tab is visible, and at once when it
 * becomes visible again. Requests never overlap.
 */
function usePhoneState(api: PhoneApi, pollMs: number) {
  const [state, setState] = useState<PhoneState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const busy = useRef(false);

  const refresh = useCallback(() => {
    if (busy.current) return;
    busy.current = true;
    api
      .state()
      .then(
        (next) => {
          setState(next);
          setError(null);
        },
        (e: unknown) => setError(e instanceof PhoneApiError ? e.message : 'The simulator could not be reached.'),
      )
      .finally(() => {
        busy.current = false;
      });
  }, [api]);

  useEffect(() => {
    refresh();
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') refresh();
    }, pollMs);
    const onVisible = () => {
      if (document.visibilityState === 'visible') refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refresh, pollMs]);

  return { state, error, refresh };
}

/**
 * The phone simulator (/demo/phone): a newcomer texts the desk as a customer would, without a
 * provider account. Pick your number and name and a desk number (SMS or WhatsApp); each desk
 * number is a conversation, as in a phone's messaging app. Enter sends (Shift+Enter adds a
 * line); the server signs the webhook as the real provider would. The desk's messages appear
 * with their template's name, and are marked read as soon as the page shows them.
 */
export function PhoneApp({ api, pollMs = 1000 }: { api: PhoneApi; pollMs?: number }) {
  const phoneId = useId();
  const phoneHintId = useId();
  const nameId = useId();
  const textId = useId();
  const sendHintId = useId();
  const attachId = useId();
  const [file, setFile] = useState<File | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [me, setMeState] = useState<Me>(loadMe);
  const [chosen, setChosen] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);
  const { state, error, refresh } = usePhoneState(api, pollMs);
  const readAsked = useRef(new Set<string>());
  const [seen, setSeen] = useState<ReadonlySet<string>>(new Set());
  const listRef = useRef<HTMLOListElement>(null);

  const phone = normalisePhone(me.phone);
  const phoneHint = phoneProblem(me.phone, 'Enter your number.');
  const identities = state?.identities ?? [];
  const identity = identities.find((i) => i.id === chosen) ?? identities[0] ?? null;
  const thread = state && phone && identity ? threadOf(state, phone, identity.id) : [];
  const summaries = state && phone ? threadSummaries(state, phone, seen) : [];

  function setMe(next: Partial<Me>) {
    setMeState((current) => {
      const updated = { ...current, ...next };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(updated));
      return updated;
    });
  }

  // The phone shows the desk's messages: each is read once, and the desk gets the receipt.
  useEffect(() => {
    if (document.visibilityState === 'hidden') return;
    for (const m of thread) {
      if (m.direction !== 'out' || m.status === 'read' || m.status === 'failed' || readAsked.current.has(m.id)) continue;
      readAsked.current.add(m.id);
      api.read(m.id).then(
        () => setSeen((current) => new Set(current).add(m.id)),
        () => readAsked.current.delete(m.id),
      );
    }
  });

  // Newest at the bottom, as on a phone.
  const last = thread.at(-1)?.id;
  useLayoutEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [last]);

  const sendProblem = !phone
    ? 'Enter your number first.'
    : !identity
      ? 'Choose a desk number to text.'
      : file && !ATTACH_TYPES.includes(file.type)
        ? 'Only images (PNG, JPEG, GIF, WebP) and PDFs can be sent.'
        : file && file.size > ATTACH_MAX_BYTES
          ? 'The file is larger than 5 MB.'
          : text.trim() === '' && !file
            ? 'Write a message.'
            : null;

  function chooseFile(next: File | null) {
    setFile(next);
    setSendError(null);
    if (!next && fileInput.current) fileInput.current.value = '';
  }

  async function send() {
    if (sendProblem || sending || !phone || !identity) return;
    setSending(true);
    setSendError(null);
    try {
      const input = { phone, name: me.name.trim(), identityId: identity.id, text: text.trim() };
      const status = await api.send(file ? { ...input, file: await readSendFile(file) } : input);
      if (status >= 200 && status < 300) {
        setText('');
        chooseFile(null);
      } else setSendError(`The desk's webhook answered ${status || 'nothing'}: the message was not taken. Your text is still here.`);
    } catch (e) {
      setSendError(e instanceof PhoneApiError ? e.message : 'The message could not be sent.');
    } finally {
      setSending(false);
      refresh();
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  }

  return (
    <div className="phone-page">
      <header className="phone-page__header">
        <h1>Phone simulator</h1>
        <p className="muted">
          Text the desk as a customer would, without a provider account: your messages reach the desk&apos;s webhook
          signed like the real provider&apos;s, and what agents send back appears here.
        </p>
      </header>

      <section className="phone-me" aria-labelledby={`${phoneId}-title`}>
        <h2 id={`${phoneId}-title`} className="phone-section-title">
          Your phone
        </h2>
        <div className="phone-me__fields">
          <div className="phone-field">
            <label htmlFor={phoneId}>Your number</label>
            <input
              id={phoneId}
              type="tel"
              autoComplete="off"
              value={me.phone}
              aria-invalid={phoneHint ? true : undefined}
              aria-describedby={phoneHintId}
              onChange={(event) => setMe({ phone: event.target.value })}
            />
            <span id={phoneHintId} className={phoneHint ? 'phone-field__hint phone-field__hint--problem' : 'phone-field__hint muted'}>
              {phoneHint ?? 'International form: + and the country code.'}
            </span>
          </div>
          <div className="phone-field">
            <label htmlFor={nameId}>Your name</label>
            <input
              id={nameId}
              type="text"
              autoComplete="off"
              placeholder="e.g. Ana"
              value={me.name}
              onChange={(event) => setMe({ name: event.target.value })}
            />
            <span className="phone-field__hint muted">Sent as your profile name on WhatsApp.</span>
          </div>
        </div>
      </section>

      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}

      <div className="phone-main">
        <nav className="phone-threads" aria-label="Desk numbers">
          <h2 className="phone-section-title">Desk numbers</h2>
          {state && identities.length === 0 && <p className="muted">The desk has no SMS or WhatsApp number to text.</p>}
          {!state && !error && <p className="muted">Loading…</p>}
          <ul className="phone-threads__list">
            {summaries.map(({ identity: i, last, unread }) => (
              <li key={i.id}>
                <button
                  type="button"
                  className="phone-thread"
                  aria-current={identity?.id === i.id ? 'true' : undefined}
                  onClick={() => setChosen(i.id)}
                >
                  <span className="phone-thread__top">
                    <span className="phone-thread__name">{i.name}</span>
                    <span className="phone-thread__channel" data-channel={i.channel}>
                      {channelName[i.channel]}
                    </span>
                  </span>
                  <span className="phone-thread__address muted">{i.address}</span>
                  {last && (
                    <span className="phone-thread__preview">
                      {last.direction === 'in' && <span className="muted">You: </span>}
                      {last.text || (last.file ? `📎 ${last.file.name}` : '')}
                    </span>
                  )}
                  {unread > 0 && <span className="phone-thread__unread">{unread} new</span>}
                </button>
              </li>
            ))}
          </ul>
        </nav>

        {identity && (
          <section className="phone-conversation" aria-labelledby={`${phoneId}-conversation`}>
            <header className="phone-conversation__header">
              <h2 id={`${phoneId}-conversation`}>{identity.name}</h2>
              <span className="muted">
                {channelName[identity.channel]} · {identity.address}
              </span>
            </header>
            <ol
              ref={listRef}
              className="phone-conversation__messages"
              role="log"
              aria-label={`Messages with ${identity.name}`}
              tabIndex={0}
            >
              {!phone && <li className="muted phone-conversation__empty">Enter your number to see your messages.</li>}
              {phone && thread.length === 0 && (
                <li className="muted phone-conversation__empty">No messages yet: write the first one below.</li>
              )}
              {thread.map((m) => (
                <li
                  key={m.id}
                  className={m.direction === 'in' ? 'bubble bubble--mine' : 'bubble bubble--desk'}
                  data-direction={m.direction}
                  data-status={m.status}
                >
                  <span className="visually-hidden">{m.direction === 'in' ? 'You: ' : `${identity.name}: `}</span>
                  {m.template && <span className="bubble__template">Template: {m.template}</span>}
                  {m.file && (
                    <span className="bubble__file">
                      📎{' '}
                      {m.file.url ? (
                        <a href={m.file.url} download={m.file.name}>
                          {m.file.name}
                        </a>
                      ) : (
                        m.file.name
                      )}{' '}
                      ({formatSize(m.file.size)})
                    </span>
                  )}
                  {m.text && <span className="bubble__text">{m.text}</span>}
                  <span className="bubble__meta">
                    <time dateTime={m.at}>{timeOfDay.format(new Date(m.at))}</time>
                    {' · '}
                    {statusLabel(m)}
                  </span>
                </li>
              ))}
            </ol>
            <form
              className="phone-compose"
              onSubmit={(event) => {
                event.preventDefault();
                void send();
              }}
            >
              <label htmlFor={textId}>Message to {identity.name}</label>
              <div className="phone-compose__row">
                <textarea
                  id={textId}
                  rows={2}
                  value={text}
                  aria-describedby={sendHintId}
                  placeholder={identity.channel === 'WHATSAPP' ? 'WhatsApp message' : 'Text message'}
                  onChange={(event) => setText(event.target.value)}
                  onKeyDown={onKeyDown}
                />
                <input
                  ref={fileInput}
                  id={attachId}
                  type="file"
                  className="visually-hidden"
                  accept={ATTACH_TYPES.join(',')}
                  onChange={(event) => chooseFile(event.target.files?.[0] ?? null)}
                />
                <label htmlFor={attachId} className="button phone-compose__attach" title="Attach an image or PDF (up to 5 MB)">
                  Attach an image or PDF
                </label>
                <button type="submit" className="button button--primary" disabled={sendProblem !== null || sending}>
                  {sending ? 'Sending…' : 'Send'}
                </button>
              </div>
              {file && (
                <div className="phone-compose__file">
                  <span>
                    📎 {file.name} ({formatSize(file.size)})
                  </span>
                  <button type="button" className="button phone-compose__remove" aria-label={`Remove ${file.name}`} onClick={() => chooseFile(null)}>
                    Remove
                  </button>
                </div>
              )}
              <span id={sendHintId} className="muted phone-compose__hint">
                {sendProblem && (text.trim() !== '' || file) ? sendProblem : 'Enter sends · Shift+Enter adds a line'}
              </span>
              {sendError && (
                <p className="form-error" role="alert">
                  {sendError}
                </p>
              )}
            </form>
          </section>
        )}
      </div>
    </div>
  );
}
