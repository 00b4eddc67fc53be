import { useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { Modal } from '../modal/Modal';
import { ConfirmDialog, Status, TextInput, useTouched, when } from './Fields';
import { failureMessage } from './userErrors';

const AdminApiKeysQuery = graphql(`
  query AdminApiKeys {
    apiKeys {
      id
      name
      createdAt
      lastUsedAt
      revoked
    }
  }
`);

const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey {
        id
        name
        createdAt
        lastUsedAt
        revoked
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

const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      apiKey {
        id
        revoked
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

/**
 * API keys for CRMs: create one (its secret shows once, in a dialog with a Copy button), the
 * list with when each was created and last used, and revoking one after a confirmation. A
 * revoked key stops working at once, on open websockets too.
 */
export function ApiKeysSection() {
  const [{ data, fetching, error }] = useQuery({ query: AdminApiKeysQuery, requestPolicy: 'cache-and-network' });
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const touched = useTouched();
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [{ fetching: creating }, create] = useMutation(CreateApiKeyMutation);
  const [{ fetching: revokingNow }, revoke] = useMutation(RevokeApiKeyMutation);

  const problem = name.trim() === '' ? 'Enter what the key is for, e.g. the CRM’s name.' : null;
  const shownNameError = nameError ?? (touched.shows('name') ? problem : null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    touched.submit();
    if (problem || creating) return;
    const result = await create({ input: { name: name.trim() } });
    const payload = result.data?.createApiKey;
    if (payload?.userErrors.length) return setNameError(payload.userErrors.map((e) => e.message).join(' '));
    if (!payload?.secret || !payload.apiKey) return setNameError(failureMessage(result.error, 'Creating the key'));
    setCreated({ name: payload.apiKey.name, secret: payload.secret });
    setName('');
    touched.reset();
    setStatus(null);
  }

  async function confirmRevoke() {
    if (!revoking) return;
    setRevokeError(null);
    const result = await revoke({ input: { apiKeyId: revoking.id } });
    const payload = result.data?.revokeApiKey;
    const message = payload?.userErrors[0]?.message ?? (payload?.apiKey ? null : failureMessage(result.error, 'Revoking the key'));
    if (message) return setRevokeError(message);
    setStatus(`The key ${revoking.name} is revoked.`);
    setRevoking(null);
  }

  const keys = data?.apiKeys ?? [];

  return (
    <section className="admin-section" aria-labelledby="admin-keys-title">
      <header className="admin-section__header">
        <h2 id="admin-keys-title">API keys</h2>
      </header>
      <p className="muted">Read-only keys for CRM integrations: they read interactions and transcripts over the API.</p>
      <form className="admin-form admin-form--inline" noValidate onSubmit={submit} aria-label="New API key">
        <TextInput
          label="Key name"
          value={name}
          onChange={(v) => {
            setName(v);
            setNameError(null);
            touched.touch('name');
          }}
          error={shownNameError}
          description="What the key is for, e.g. the CRM’s name."
          isRequired
        />
        <button type="submit" className="button button--primary" aria-disabled={creating}>
          {creating ? 'Creating…' : 'Create key'}
        </button>
      </form>
      {status && <Status>{status}</Status>}
      {error && !data && (
        <p className="form-error" role="alert">
          {failureMessage(error, 'Loading the keys')}
        </p>
      )}
      {fetching && !data && <p className="muted">Loading…</p>}
      {data && keys.length === 0 && <p className="muted">No API keys yet.</p>}
      {keys.length > 0 && (
        <table className="admin-table">
          <caption className="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>{when(key.createdAt)}</td>
                <td>{key.lastUsedAt ? when(key.lastUsedAt) : 'Never'}</td>
                <td>{key.revoked ? <span className="badge badge--muted">Revoked</span> : 'Active'}</td>
                <td>
                  {!key.revoked && (
                    <button
                      type="button"
                      className="button button--small button--danger"
                      aria-haspopup="dialog"
                      aria-label={`Revoke ${key.name}`}
                      onClick={() => {
                        setRevokeError(null);
                        setRevoking({ id: key.id, name: key.name });
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {created && <SecretDialog name={created.name} secret={created.secret} onClose={() => setCreated(null)} />}
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke key"
          busy={revokingNow}
          error={revokeError}
          onConfirm={confirmRevoke}
          onCancel={() => setRevoking(null)}
        >
          <p>
            The key stops working at once: requests with it are refused and its open connections are closed. This cannot
            be undone; the CRM needs a new key.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The new key's secret, shown once: select it or copy it; closing forgets it. */
export function SecretDialog({ name, secret, onClose }: { name: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState('');
  const copyRef = useRef<HTMLButtonElement>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is blocked here: select the key and copy it.');
    }
  }

  return (
    <Modal className="secret-dialog" title={`API key ${name} created`} onClose={onClose} initialFocus={copyRef}>
      <p className="secret-dialog__warning">
        <strong>Copy the key now: you will not see it again.</strong> agentdesk stores only a hash of it.
      </p>
      <div className="field">
        <label htmlFor="admin-key-secret">API key</label>
        <input id="admin-key-secret" readOnly value={secret} className="secret-dialog__secret" onFocus={(e) => e.currentTarget.select()} />
      </div>
      <p className="muted">The CRM sends it as <code>Authorization: Bearer &lt;key&gt;</code>.</p>
      <footer className="modal__footer">
        <span role="status" className="muted">
          {copied}
        </span>
        <button ref={copyRef} type="button" className="button" onClick={copy}>
          Copy key
        </button>
        <button type="button" className="button button--primary" onClick={onClose}>
          Done
        </button>
      </footer>
    </Modal>
  );
}
