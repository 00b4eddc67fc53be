import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { AdminCannedResponsesQuery } from '../gql/graphql';
import { AdminPlanNamesQuery } from './AgentsSection';
import { ConfirmDialog, Status, TextInput, useTouched } from './Fields';
import { failureMessage, fieldErrors, GENERAL } from './userErrors';
import { cannedProblems, type CannedForm } from './validation';

const AdminCannedResponsesQuery = graphql(`
  query AdminCannedResponses {
    cannedResponses {
      id
      title
      text
      plan {
        id
        name
      }
    }
  }
`);

const SaveCannedResponseMutation = graphql(`
  mutation SaveCannedResponse($input: CannedResponseInput!) {
    saveCannedResponse(input: $input) {
      cannedResponse {
        id
        title
        text
        plan {
          id
          name
        }
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

const DeleteCannedResponseMutation = graphql(`
  mutation DeleteCannedResponse($input: DeleteCannedResponseInput!) {
    deleteCannedResponse(input: $input) {
      deletedId
      userErrors {
        code
        message
        field
      }
    }
  }
`);

type Canned = AdminCannedResponsesQuery['cannedResponses'][number];

/** Canned responses: the list, a form to create or change one (global or for one plan), delete. */
export function CannedSection() {
  const [{ data, fetching, error }] = useQuery({ query: AdminCannedResponsesQuery, requestPolicy: 'cache-and-network' });
  // null: no form; 'new' or the response being edited.
  const [editing, setEditing] = useState<'new' | Canned | null>(null);
  const [deleting, setDeleting] = useState<Canned | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [{ fetching: deletingNow }, remove] = useMutation(DeleteCannedResponseMutation);
  const responses = data?.cannedResponses ?? [];

  async function confirmDelete() {
    if (!deleting) return;
    const result = await remove({ input: { cannedResponseId: deleting.id } });
    const payload = result.data?.deleteCannedResponse;
    const message = payload?.userErrors[0]?.message ?? (payload?.deletedId ? null : failureMessage(result.error, 'Deleting'));
    if (message) return setDeleteError(message);
    setStatus(`Deleted “${deleting.title}”.`);
    setDeleting(null);
  }

  return (
    <section className="admin-section" aria-labelledby="admin-canned-title">
      <header className="admin-section__header">
        <h2 id="admin-canned-title">Canned responses</h2>
        {editing === null && (
          <button type="button" className="button button--primary" onClick={() => setEditing('new')}>
            New response
          </button>
        )}
      </header>
      <p className="muted">Saved replies agents insert into the composer (type / to search them).</p>
      {editing !== null && (
        <CannedEditor
          key={editing === 'new' ? 'new' : editing.id}
          response={editing === 'new' ? null : editing}
          onDone={(message) => {
            setEditing(null);
            setStatus(message);
          }}
        />
      )}
      {status && <Status>{status}</Status>}
      {error && !data && (
        <p className="form-error" role="alert">
          {failureMessage(error, 'Loading the responses')}
        </p>
      )}
      {fetching && !data && <p className="muted">Loading…</p>}
      {data && responses.length === 0 && <p className="muted">No canned responses yet.</p>}
      {responses.length > 0 && (
        <table className="admin-table">
          <caption className="visually-hidden">Canned responses</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Text</th>
              <th scope="col">Plan</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {responses.map((r) => (
              <tr key={r.id}>
                <td>{r.title}</td>
                <td className="admin-table__text">{r.text}</td>
                <td>{r.plan?.name ?? 'All plans'}</td>
                <td className="admin-table__actions">
                  <button type="button" className="button button--small" aria-label={`Edit ${r.title}`} onClick={() => setEditing(r)}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className="button button--small button--danger"
                    aria-haspopup="dialog"
                    aria-label={`Delete ${r.title}`}
                    onClick={() => {
                      setDeleteError(null);
                      setDeleting(r);
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
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting.title}”?`}
          confirmLabel="Delete response"
          busy={deletingNow}
          error={deleteError}
          onConfirm={confirmDelete}
          onCancel={() => setDeleting(null)}
        >
          <p>Agents can no longer insert it. What they already sent stays in the transcripts.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

const CANNED_FIELDS = new Set(['title', 'text', 'planId']);

function CannedEditor({ response, onDone }: { response: Canned | null; onDone: (message: string) => void }) {
  const [form, setForm] = useState<CannedForm>({
    title: response?.title ?? '',
    text: response?.text ?? '',
    planId: response?.plan?.id ?? '',
  });
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const touched = useTouched();
  const [plans] = useQuery({ query: AdminPlanNamesQuery });
  const [{ fetching }, save] = useMutation(SaveCannedResponseMutation);
  const problems = cannedProblems(form);
  const errorOf = (key: string) => serverErrors[key] ?? (touched.shows(key) ? problems[key] : undefined);

  function change(key: keyof CannedForm, value: string) {
    setForm((f) => ({ ...f, [key]: value }));
    touched.touch(key);
    setServerErrors((e) => {
      const next = { ...e };
      delete next[key];
      delete next[GENERAL];
      return next;
    });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    touched.submit();
    if (fetching || Object.keys(problems).length > 0) return;
    const result = await save({
      input: {
        ...(response ? { cannedResponseId: response.id } : {}),
        title: form.title.trim(),
        text: form.text,
        planId: form.planId || null,
      },
    });
    const payload = result.data?.saveCannedResponse;
    if (payload?.userErrors.length) return setServerErrors(fieldErrors(payload.userErrors, (k) => CANNED_FIELDS.has(k)));
    if (!payload?.cannedResponse) return setServerErrors({ [GENERAL]: failureMessage(result.error, 'Saving the response') });
    onDone(response ? `Saved “${payload.cannedResponse.title}”.` : `Created “${payload.cannedResponse.title}”.`);
  }

  return (
    <form className="admin-form card" noValidate onSubmit={submit} aria-label={response ? `Edit ${response.title}` : 'New canned response'}>
      <TextInput label="Title" value={form.title} onChange={(v) => change('title', v)} onBlur={() => touched.touch('title')} error={errorOf('title')} description="What agents search for." isRequired />
      <TextInput label="Text" multiline value={form.text} onChange={(v) => change('text', v)} onBlur={() => touched.touch('text')} error={errorOf('text')} isRequired />
      <div className="field">
        <label htmlFor="admin-canned-plan">Available in</label>
        <select id="admin-canned-plan" value={form.planId} onChange={(e) => change('planId', e.target.value)} aria-invalid={errorOf('planId') ? true : undefined}>
          <option value="">Every plan</option>
          {(plans.data?.interactionPlans ?? []).map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        {errorOf('planId') && <p className="field-error">{errorOf('planId')}</p>}
      </div>
      {serverErrors[GENERAL] && (
        <p className="form-error" role="alert">
          {serverErrors[GENERAL]}
        </p>
      )}
      <footer className="admin-form__footer">
        <button type="submit" className="button button--primary" aria-disabled={fetching}>
          {fetching ? 'Saving…' : response ? 'Save response' : 'Create response'}
        </button>
        <button type="button" className="button" onClick={() => onDone('')}>
          Cancel
        </button>
      </footer>
    </form>
  );
}
