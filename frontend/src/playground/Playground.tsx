import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import {
  parseHeaders,
  parseVariables,
  withBearerToken,
  withoutCredentialHeaders,
  withoutCredentialVariables,
} from './editorText';
import { detectOperation } from './operation';
import { usePersistentState } from './persist';
import { SchemaPanel } from './SchemaPanel';
import { SignInForm } from './SignInForm';
import { websocketUrl } from '../websocketUrl';
import { postOperation, subscribeOperation, type HttpResult } from './transport';

const ENDPOINT = '/query';
const MAX_EVENTS = 200;

const DEFAULT_QUERY = `# agentdesk playground: sign in above (or fill the Authorization header),
# then press Ctrl+Enter (Cmd+Enter on a Mac) or Run.
query Me {
  me {
    id
    name
    presence
  }
}
`;
const DEFAULT_HEADERS = '{\n  "Authorization": "Bearer "\n}';

type Run =
  | { kind: 'idle' }
  | { kind: 'invalid'; error: string }
  | { kind: 'http'; pending: true }
  | { kind: 'http'; pending: false; result?: HttpResult; error?: string }
  | {
      kind: 'subscription';
      status: 'connecting' | 'connected' | 'completed' | 'stopped' | 'failed';
      events: { at: string; payload: unknown }[];
      error?: string;
    };

/** Describes whatever graphql-ws reports as a subscription error. */
export function describeSubscriptionError(error: unknown): string {
  if (Array.isArray(error)) return JSON.stringify({ errors: error }, null, 2);
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code, reason } = error as { code: number; reason?: string };
    return `Connection closed: ${code}${reason ? ` ${reason}` : ''}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export function Playground() {
  // Tokens, API keys and passwords are kept only for this visit unless the user asks: in
  // localStorage they would outlive the visit, for anyone on this browser or any script here.
  const [remembered, setRemembered] = usePersistentState('rememberCredentials', 'false');
  const remember = remembered === 'true';
  const storableHeaders = useCallback(
    (text: string) => (remember ? text : withoutCredentialHeaders(text)),
    [remember],
  );
  const storableVariables = useCallback(
    (text: string) => (remember ? text : withoutCredentialVariables(text)),
    [remember],
  );
  const [query, setQuery] = usePersistentState('query', DEFAULT_QUERY);
  const [variables, setVariables] = usePersistentState('variables', '', storableVariables);
  const [headers, setHeaders] = usePersistentState('headers', DEFAULT_HEADERS, storableHeaders);
  const [operationName, setOperationName] = useState('');
  const [run, setRun] = useState<Run>({ kind: 'idle' });
  const stopRef = useRef<(() => void) | null>(null);

  const detected = detectOperation(query, operationName || undefined);
  const names = detected.names;
  const parsedHeaders = parseHeaders(headers);

  useEffect(() => () => stopRef.current?.(), []);

  function stop(status: 'stopped' | null = 'stopped') {
    stopRef.current?.();
    stopRef.current = null;
    if (status) {
      setRun((r) =>
        r.kind === 'subscription' && (r.status === 'connecting' || r.status === 'connected')
          ? { ...r, status }
          : r,
      );
    }
  }

  async function execute() {
    stop(null);
    if (!detected.ok) return setRun({ kind: 'invalid', error: detected.error });
    const vars = parseVariables(variables);
    if (!vars.ok) return setRun({ kind: 'invalid', error: vars.error });
    if (!parsedHeaders.ok) return setRun({ kind: 'invalid', error: parsedHeaders.error });

    const request = {
      query,
      ...(detected.name ? { operationName: detected.name } : {}),
      ...(Object.keys(vars.value).length ? { variables: vars.value } : {}),
    };

    if (detected.type === 'subscription') {
      const update = (change: (r: Extract<Run, { kind: 'subscription' }>) => Run) =>
        setRun((r) => (r.kind === 'subscription' ? change(r) : r));
      setRun({ kind: 'subscription', status: 'connecting', events: [] });
      stopRef.current = subscribeOperation(
        websocketUrl(window.location, ENDPOINT),
        request,
        parsedHeaders.value,
        {
          onConnected: () => update((r) => ({ ...r, status: 'connected' })),
          onEvent: (payload) =>
            update((r) => ({
              ...r,
              events: [{ at: new Date().toLocaleTimeString(), payload }, ...r.events].slice(
                0,
                MAX_EVENTS,
              ),
            })),
          onError: (error) =>
            update((r) => ({ ...r, status: 'failed', error: describeSubscriptionError(error) })),
          onComplete: () => update((r) => ({ ...r, status: 'completed' })),
        },
      );
      return;
    }

    setRun({ kind: 'http', pending: true });
    try {
      const result = await postOperation(ENDPOINT, request, parsedHeaders.value);
      setRun({ kind: 'http', pending: false, result });
    } catch (e) {
      setRun({ kind: 'http', pending: false, error: (e as Error).message });
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void execute();
    }
  }

  const subscribed =
    run.kind === 'subscription' && (run.status === 'connecting' || run.status === 'connected');

  return (
    <div className="pg" onKeyDown={onKeyDown}>
      <header className="pg-header">
        <h1>
          agentdesk <span className="muted">playground</span>
        </h1>
        <SignInForm url={ENDPOINT} onToken={(token) => setHeaders((h) => withBearerToken(h, token))} />
        <span className="pg-header__spacer" />
        {names.length > 1 && (
          <>
            <label htmlFor="pg-operation">Operation</label>
            <select
              id="pg-operation"
              value={names.includes(operationName) ? operationName : ''}
              onChange={(e) => setOperationName(e.target.value)}
            >
              <option value="">Choose…</option>
              {names.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </>
        )}
        {subscribed ? (
          <button type="button" className="button button--danger" onClick={() => stop()}>
            Stop
          </button>
        ) : (
          <button
            type="button"
            className="button button--primary"
            onClick={() => void execute()}
            title="Run (Ctrl+Enter)"
          >
            Run {detected.ok ? detected.type : ''}
          </button>
        )}
      </header>

      <div className="pg-body">
        <SchemaPanel url={ENDPOINT} headers={parsedHeaders.ok ? parsedHeaders.value : {}} />

        <section className="pg-editors" aria-label="Editors">
          <Editor id="pg-query" label="Operation" className="pg-editor--query" value={query} onChange={setQuery} />
          <Editor id="pg-variables" label="Variables (JSON)" placeholder="{}" value={variables} onChange={setVariables} />
          <Editor
            id="pg-headers"
            label="Headers (JSON)"
            value={headers}
            onChange={setHeaders}
            invalid={!parsedHeaders.ok}
            help={
              parsedHeaders.ok
                ? 'Sent with queries and mutations, and as connection_init payload for subscriptions.'
                : parsedHeaders.error
            }
          />
          <div className="pg-remember">
            <input
              id="pg-remember"
              type="checkbox"
              checked={remember}
              onChange={(e) => setRemembered(String(e.target.checked))}
              aria-describedby="pg-remember-help"
            />
            <label htmlFor="pg-remember">Remember on this device</label>
            <span id="pg-remember-help" className="pg-editor__help">
              Keeps the token, API key or password in the headers and variables after this visit.
              Leave it off on a shared computer.
            </span>
          </div>
        </section>

        <section className="pg-result" aria-labelledby="pg-result-title">
          <div className="pg-pane__head">
            <h2 id="pg-result-title">Result</h2>
            <ResultStatus run={run} />
          </div>
          <ResultBody run={run} />
        </section>
      </div>
    </div>
  );
}

function ResultStatus({ run }: { run: Run }) {
  let text = '';
  if (run.kind === 'invalid') text = 'Not sent';
  if (run.kind === 'http') {
    text = run.pending
      ? 'Running…'
      : run.result
        ? `HTTP ${run.result.status} · ${run.result.ms} ms`
        : 'Request failed';
  }
  if (run.kind === 'subscription') {
    text = {
      connecting: 'Connecting…',
      connected: 'Connected: listening for events',
      completed: 'Completed',
      stopped: 'Stopped',
      failed: 'Failed',
    }[run.status];
    if (run.events.length) text += ` · ${run.events.length} event(s)`;
  }
  return (
    <span
      className="pg-result__status"
      role="status"
      data-state={run.kind === 'subscription' ? run.status : undefined}
    >
      {text}
    </span>
  );
}

function ResultBody({ run }: { run: Run }) {
  if (run.kind === 'idle') {
    return <p className="muted pg-result__hint">Run an operation to see its result here.</p>;
  }
  if (run.kind === 'invalid') {
    return (
      <pre className="pg-result__output pg-result__output--error" role="alert">
        {run.error}
      </pre>
    );
  }
  if (run.kind === 'http') {
    if (run.pending) return null;
    if (run.error) {
      return (
        <pre className="pg-result__output pg-result__output--error" role="alert">
          {run.error}
        </pre>
      );
    }
    const body = run.result?.body;
    return (
      <pre className="pg-result__output" data-testid="result">
        {typeof body === 'string' ? body : JSON.stringify(body, null, 2)}
      </pre>
    );
  }
  return (
    <div className="pg-result__events" data-testid="result">
      {run.error && (
        <pre className="pg-result__output pg-result__output--error" role="alert">
          {run.error}
        </pre>
      )}
      {run.events.map((event, i) => (
        <div key={run.events.length - i} className="pg-event">
          <span className="pg-event__time">{event.at}</span>
          <pre className="pg-result__output">{JSON.stringify(event.payload, null, 2)}</pre>
        </div>
      ))}
      {run.events.length === 0 && !run.error && (
        <p className="muted pg-result__hint">No events yet.</p>
      )}
    </div>
  );
}

interface EditorProps {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  className?: string;
  placeholder?: string;
  invalid?: boolean;
  /** A line under the editor, announced with it to screen readers. */
  help?: string;
}

/** A labelled monospace text editor of the playground. */
function Editor({ id, label, value, onChange, className, placeholder, invalid, help }: EditorProps) {
  const helpId = help === undefined ? undefined : `${id}-help`;
  return (
    <div className={className ? `pg-editor ${className}` : 'pg-editor'}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        spellCheck={false}
        placeholder={placeholder}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={invalid}
        aria-describedby={helpId}
      />
      {helpId && (
        <span id={helpId} className="pg-editor__help">
          {help}
        </span>
      )}
    </div>
  );
}
