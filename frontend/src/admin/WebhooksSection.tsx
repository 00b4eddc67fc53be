import { useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { InteractionEventKind } from '../gql/graphql';
import { Modal } from '../modal/Modal';
import { CheckField, CheckGroup, ConfirmDialog, Status, TextInput, useTouched, when } from './Fields';
import { failureMessage } from './userErrors';

const AdminWebhooksQuery = graphql(`
  query AdminWebhooks {
    webhooks {
      id
      url
      kinds
      active
      createdAt
      retryingAttempts
      nextAttemptAt
      lastDelivery {
        eventId
        attempts
        lastStatus
        lastError
        lastAttemptAt
      }
      failedDeliveries(first: 20) {
        eventId
        attempts
        lastStatus
        lastError
        lastAttemptAt
      }
    }
  }
`);

const CreateWebhookMutation = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      webhook {
        id
        url
      }
      secret
      userErrors {
        code
        message
        field
      }
    }
  }
`);

const DeleteWebhookMutation = graphql(`
  mutation DeleteWebhook($input: DeleteWebhookInput!) {
    deleteWebhook(input: $input) {
      deletedId
      userErrors {
        code
        message
        field
      }
    }
  }
`);

const RotateWebhookSecretMutation = graphql(`
  mutation RotateWebhookSecret($input: RotateWebhookSecretInput!) {
    rotateWebhookSecret(input: $input) {
      webhook {
        id
        url
      }
      secret
      userErrors {
        code
        message
        field
      }
    }
  }
`);

const RedeliverWebhookEventMutation = graphql(`
  mutation RedeliverWebhookEvent($input: RedeliverWebhookEventInput!) {
    redeliverWebhookEvent(input: $input) {
      delivered
      delivery {
        eventId
        attempts
        lastStatus
        lastError
        lastAttemptAt
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

/** The kinds of event, in the order of an interaction's life, with what each means. */
export const EVENT_KINDS: { kind: InteractionEventKind; label: string }[] = [
  { kind: 'CREATED', label: 'Created' },
  { kind: 'OFFERED', label: 'Offered to an agent' },
  { kind: 'ACCEPTED', label: 'Accepted' },
  { kind: 'MESSAGE', label: 'Message' },
  { kind: 'PARKED', label: 'Parked' },
  { kind: 'UNPARKED', label: 'Unparked' },
  { kind: 'TRANSFERRED', label: 'Transferred' },
  { kind: 'ENDED', label: 'Ended' },
  { kind: 'COMPLETED', label: 'Completed' },
  { kind: 'UPDATED', label: 'Notes, codes, lapsed offers' },
];

/** A problem with a webhook URL the form can tell before asking the server. */
export function webhookURLProblem(url: string): string | null {
  const u = url.trim();
  if (u === '') return 'Enter the CRM’s HTTPS endpoint.';
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    return 'Enter a full URL, e.g. https://crm.example.com/agentdesk.';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'Webhook URLs are https://.';
  return null;
}

type Webhook = NonNullable<ReturnType<typeof useWebhooks>['data']>['webhooks'][number];

function useWebhooks() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: AdminWebhooksQuery, requestPolicy: 'cache-and-network' });
  return { data, fetching, error, refetch };
}

/**
 * Webhooks for CRMs: register an endpoint for some kinds of interaction event (its signing
 * secret shows once), see how each delivers (retries under way, the last attempt), redeliver
 * what failed for good, rotate a secret, delete a webhook.
 */
export function WebhooksSection() {
  const { data, fetching, error, refetch } = useWebhooks();
  const [url, setURL] = useState('');
  const [kinds, setKinds] = useState<string[]>(EVENT_KINDS.map((k) => k.kind));
  const [formError, setFormError] = useState<string | null>(null);
  const touched = useTouched();
  const [secret, setSecret] = useState<{ url: string; secret: string; rotated: boolean } | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [{ fetching: creating }, create] = useMutation(CreateWebhookMutation);
  const [{ fetching: deletingNow }, remove] = useMutation(DeleteWebhookMutation);
  const [{ fetching: rotatingNow }, rotate] = useMutation(RotateWebhookSecretMutation);
  const [, redeliver] = useMutation(RedeliverWebhookEventMutation);

  const urlProblem = webhookURLProblem(url);
  const kindsProblem = kinds.length === 0 ? 'Choose at least one kind of event.' : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    touched.submit();
    if (urlProblem || kindsProblem || creating) return;
    const result = await create({ input: { url: url.trim(), kinds: kinds as InteractionEventKind[] } });
    const payload = result.data?.createWebhook;
    if (payload?.userErrors.length) return setFormError(payload.userErrors.map((e) => e.message).join(' '));
    if (!payload?.secret || !payload.webhook) return setFormError(failureMessage(result.error, 'Creating the webhook'));
    setSecret({ url: payload.webhook.url, secret: payload.secret, rotated: false });
    setURL('');
    touched.reset();
    setStatus(null);
  }

  async function confirmDelete() {
    if (!deleting) return;
    setDialogError(null);
    const result = await remove({ input: { webhookId: deleting.id } });
    const payload = result.data?.deleteWebhook;
    const message = payload?.userErrors[0]?.message ?? (payload?.deletedId ? null : failureMessage(result.error, 'Deleting the webhook'));
    if (message) return setDialogError(message);
    setStatus(`The webhook to ${deleting.url} is deleted.`);
    setDeleting(null);
  }

  async function confirmRotate() {
    if (!rotating) return;
    setDialogError(null);
    const result = await rotate({ input: { webhookId: rotating.id } });
    const payload = result.data?.rotateWebhookSecret;
    const message = payload?.userErrors[0]?.message ?? (payload?.secret ? null : failureMessage(result.error, 'Rotating the secret'));
    if (message || !payload?.secret) return setDialogError(message);
    setSecret({ url: rotating.url, secret: payload.secret, rotated: true });
    setRotating(null);
  }

  async function again(hook: Webhook, eventId: string) {
    const result = await redeliver({ input: { webhookId: hook.id, eventId } });
    const payload = result.data?.redeliverWebhookEvent;
    if (payload?.delivered) setStatus(`Event ${eventId} was delivered to ${hook.url}.`);
    else
      setStatus(
        payload?.userErrors[0]?.message ??
          (payload?.delivery
            ? `The receiver refused event ${eventId} again: ${payload.delivery.lastError ?? payload.delivery.lastStatus}.`
            : failureMessage(result.error, 'Redelivering')),
      );
    refetch({ requestPolicy: 'network-only' });
  }

  const hooks = data?.webhooks ?? [];
  return (
    <section className="admin-section" aria-labelledby="admin-webhooks-title">
      <header className="admin-section__header">
        <h2 id="admin-webhooks-title">Webhooks</h2>
      </header>
      <p className="muted">
        agentdesk POSTs each interaction event to the CRM’s HTTPS endpoint, signed with the webhook’s secret
        (X-Agentdesk-Signature), in order, retrying for 24 hours.
      </p>
      <form className="admin-form" noValidate onSubmit={submit} aria-label="New webhook">
        <TextInput
          label="Endpoint URL"
          value={url}
          onChange={(v) => {
            setURL(v);
            setFormError(null);
            touched.touch('url');
          }}
          error={formError ?? (touched.shows('url') ? urlProblem : null)}
          description="https:// and reachable from this server, e.g. https://crm.example.com/agentdesk."
          isRequired
        />
        <CheckGroup label="Events" value={kinds} onChange={setKinds} error={touched.shows('kinds') || touched.shows('url') ? kindsProblem : null}>
          {EVENT_KINDS.map((k) => (
            <CheckField key={k.kind} value={k.kind}>
              {k.label}
            </CheckField>
          ))}
        </CheckGroup>
        <button type="submit" className="button button--primary" aria-disabled={creating}>
          {creating ? 'Creating…' : 'Create webhook'}
        </button>
      </form>
      {status && <Status>{status}</Status>}
      {error && !data && (
        <p className="form-error" role="alert">
          {failureMessage(error, 'Loading the webhooks')}
        </p>
      )}
      {fetching && !data && <p className="muted">Loading…</p>}
      {data && hooks.length === 0 && <p className="muted">No webhooks yet.</p>}
      {hooks.length > 0 && (
        <table className="admin-table">
          <caption className="visually-hidden">Webhooks</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Events</th>
              <th scope="col">Delivery</th>
              <th scope="col">Failed</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {hooks.map((hook) => (
              <tr key={hook.id}>
                <td>
                  <code>{hook.url}</code>
                  <div className="muted">Created {when(hook.createdAt)}</div>
                </td>
                <td>{hook.kinds.length === EVENT_KINDS.length ? 'All' : hook.kinds.join(', ')}</td>
                <td>{deliveryState(hook)}</td>
                <td>
                  {hook.failedDeliveries.length === 0
                    ? 'None'
                    : hook.failedDeliveries.map((d) => (
                        <div key={d.eventId}>
                          <span className="muted">
                            {when(d.lastAttemptAt)}: {d.lastError ?? `HTTP ${d.lastStatus}`} ({d.attempts} attempts)
                          </span>{' '}
                          <button
                            type="button"
                            className="button button--small"
                            aria-label={`Redeliver event ${d.eventId}`}
                            onClick={() => again(hook, d.eventId)}
                          >
                            Redeliver
                          </button>
                        </div>
                      ))}
                </td>
                <td>
                  <button
                    type="button"
                    className="button button--small"
                    aria-haspopup="dialog"
                    aria-label={`Rotate the secret of ${hook.url}`}
                    onClick={() => {
                      setDialogError(null);
                      setRotating(hook);
                    }}
                  >
                    Rotate secret
                  </button>{' '}
                  <button
                    type="button"
                    className="button button--small button--danger"
                    aria-haspopup="dialog"
                    aria-label={`Delete ${hook.url}`}
                    onClick={() => {
                      setDialogError(null);
                      setDeleting(hook);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {secret && <WebhookSecretDialog {...secret} onClose={() => setSecret(null)} />}
      {deleting && (
        <ConfirmDialog
          title={`Delete the webhook to ${deleting.url}?`}
          confirmLabel="Delete webhook"
          busy={deletingNow}
          error={dialogError}
          onConfirm={confirmDelete}
          onCancel={() => setDeleting(null)}
        >
          <p>No more events go to this endpoint, and its failed deliveries are forgotten.</p>
        </ConfirmDialog>
      )}
      {rotating && (
        <ConfirmDialog
          title={`Rotate the secret of ${rotating.url}?`}
          confirmLabel="Rotate secret"
          busy={rotatingNow}
          error={dialogError}
          onConfirm={confirmRotate}
          onCancel={() => setRotating(null)}
        >
          <p>Every delivery from now on is signed with a new secret; the receiver must verify with it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** Where a webhook's deliveries stand, in words. */
export function deliveryState(hook: Pick<Webhook, 'retryingAttempts' | 'nextAttemptAt' | 'lastDelivery'>): string {
  const last = hook.lastDelivery;
  if (hook.retryingAttempts > 0)
    return `Retrying: ${hook.retryingAttempts} failed attempt${hook.retryingAttempts === 1 ? '' : 's'}, last ${
      last?.lastError ?? `HTTP ${last?.lastStatus}`
    }; next ${when(hook.nextAttemptAt)}`;
  if (!last) return 'Nothing delivered yet';
  return last.lastStatus && last.lastStatus < 300 ? `Delivered ${when(last.lastAttemptAt)}` : `Last attempt ${when(last.lastAttemptAt)}`;
}

/** A webhook's new secret, shown once: select it or copy it; closing forgets it. */
function WebhookSecretDialog({ url, secret, rotated, onClose }: { url: string; secret: string; rotated: boolean; onClose: () => void }) {
  const [copied, setCopied] = useState('');
  const copyRef = useRef<HTMLButtonElement>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is blocked here: select the secret and copy it.');
    }
  }
  return (
    <Modal className="secret-dialog" title={rotated ? `New secret for ${url}` : `Webhook to ${url} created`} onClose={onClose} initialFocus={copyRef}>
      <p className="secret-dialog__warning">
        <strong>Copy the secret now: you will not see it again.</strong>
      </p>
      <div className="field">
        <label htmlFor="admin-webhook-secret">Signing secret</label>
        <input id="admin-webhook-secret" readOnly value={secret} className="secret-dialog__secret" onFocus={(e) => e.currentTarget.select()} />
      </div>
      <p className="muted">
        The receiver checks <code>X-Agentdesk-Signature</code> (HMAC-SHA256 of the timestamp and the body) with it.
      </p>
      <footer className="modal__footer">
        <span role="status" className="muted">
          {copied}
        </span>
        <button ref={copyRef} type="button" className="button" onClick={copy}>
          Copy secret
        </button>
        <button type="button" className="button button--primary" onClick={onClose}>
          Done
        </button>
      </footer>
    </Modal>
  );
}
