import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { answered } from './answered';
import { graphql } from '../gql';
import type { AdminAgentQuery, ChannelCapacityInput } from '../gql/graphql';
import { useToasts } from '../toast/Toasts';
import { channelNames, CheckField, CheckGroup, ConfirmDialog, Status, TextInput, useTouched } from './Fields';
import { navigate, routeHref } from './route';
import { failureMessage, fieldErrors, GENERAL, type AdminUserError } from './userErrors';
import { agentProblems, CHANNELS, passwordProblem, type AgentForm } from './validation';

export const PAGE_SIZE = 20;

const AdminAgentsQuery = graphql(`
  query AdminAgents($search: String, $first: Int, $after: String) {
    agents(search: $search, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          username
          name
          role
          disabled
          plans {
            id
            name
          }
        }
      }
    }
  }
`);

const AdminAgentQuery = graphql(`
  query AdminAgent($id: ID!) {
    node(id: $id) {
      __typename
      ... on Agent {
        id
        username
        name
        role
        disabled
        autoAccept
        plans {
          id
          name
        }
        capacity {
          channel
          max
          used
        }
      }
    }
  }
`);

export const AdminPlanNamesQuery = graphql(`
  query AdminPlanNames {
    interactionPlans {
      id
      name
      channels
    }
  }
`);

const CreateAgentMutation = graphql(`
  mutation CreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      agent {
        id
        username
        name
        role
        disabled
        autoAccept
        plans {
          id
          name
        }
        capacity {
          channel
          max
          used
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

const UpdateAgentMutation = graphql(`
  mutation UpdateAgent($input: UpdateAgentInput!) {
    updateAgent(input: $input) {
      agent {
        id
        username
        name
        role
        disabled
        autoAccept
        plans {
          id
          name
        }
        capacity {
          channel
          max
          used
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

export type LoadedAgent = Extract<NonNullable<AdminAgentQuery['node']>, { username: string }>;

/** Agents: the list (#/admin/agents), a new agent (…/new) or one agent (…/<id>). */
export function AgentsSection({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <AgentEditor agent={null} />;
  if (rest[0]) return <LoadAgent id={rest[0]} />;
  return <AgentList />;
}

/** Quiet time after the last keystroke before the search runs. */
export const SEARCH_DELAY_MS = 250;

function AgentList() {
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  // Cursors of the pages before this one; forward paging only, so Previous pops one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors.at(-1) ?? null;
  const variables = { search: search || null, first: PAGE_SIZE, after };
  const [result] = useQuery({ query: AdminAgentsQuery, variables, requestPolicy: 'cache-and-network' });
  const { fetching, error } = result;
  // The page of another search or position must not show as this one's (answered).
  const data = answered(result, variables);

  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(text.trim());
      setCursors([null]);
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const page = data?.agents;
  const first = (cursors.length - 1) * PAGE_SIZE + 1;
  const rows = page?.edges ?? [];

  return (
    <section className="admin-section" aria-labelledby="admin-agents-title">
      <header className="admin-section__header">
        <h2 id="admin-agents-title">Agents</h2>
        <a className="button button--primary" href={routeHref('admin', 'agents', 'new')}>
          New agent
        </a>
      </header>
      <TextInput
        label="Search agents"
        type="search"
        value={text}
        onChange={setText}
        description="Name or username"
        className="field admin-search"
      />
      {error && !data && (
        <p className="form-error" role="alert">
          {failureMessage(error, 'Loading the agents')}
        </p>
      )}
      <table className="admin-table">
        <caption className="visually-hidden">Agents</caption>
        <thead>
          <tr>
            <th scope="col">Username</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Plans</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ node }) => (
            <tr key={node.id}>
              <td>{node.username}</td>
              <td>{node.name}</td>
              <td>{node.role === 'SUPERVISOR' ? 'Supervisor' : 'Agent'}</td>
              <td>{node.plans.map((p) => p.name).join(', ') || '—'}</td>
              <td>{node.disabled ? <span className="badge badge--muted">Disabled</span> : 'Active'}</td>
              <td>
                <a className="button button--small" href={routeHref('admin', 'agents', node.id)} aria-label={`Edit ${node.name}`}>
                  Edit
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page && rows.length === 0 && <p className="muted">{search ? 'No agent matches.' : 'No agents yet.'}</p>}
      {fetching && !page && <p className="muted">Loading…</p>}
      <footer className="admin-pager">
        <span role="status">
          {page && rows.length > 0
            ? `${first}–${first + rows.length - 1} of ${page.totalCount}`
            : page
              ? `0 of ${page.totalCount}`
              : ''}
        </span>
        <button
          type="button"
          className="button button--small"
          disabled={cursors.length === 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          className="button button--small"
          disabled={!page?.pageInfo.hasNextPage}
          onClick={() => page?.pageInfo.endCursor && setCursors((c) => [...c, page.pageInfo.endCursor!])}
        >
          Next page
        </button>
      </footer>
    </section>
  );
}

function LoadAgent({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: AdminAgentQuery, variables: { id }, requestPolicy: 'cache-and-network' });
  const node = data?.node;
  const agent = node && 'username' in node ? node : null;
  if (agent) return <AgentEditor key={agent.id} agent={agent} />;
  return (
    <section className="admin-section">
      <p className="muted">{fetching ? 'Loading…' : error ? failureMessage(error, 'Loading the agent') : 'No such agent.'}</p>
      <a href={routeHref('admin', 'agents')}>Back to agents</a>
    </section>
  );
}

const emptyCapacity = () => Object.fromEntries(CHANNELS.map((c) => [c, ''])) as AgentForm['capacity'];

export function agentForm(agent: LoadedAgent | null): AgentForm {
  const capacity = emptyCapacity();
  for (const c of agent?.capacity ?? []) if (c.channel in capacity) capacity[c.channel as keyof typeof capacity] = String(c.max);
  return {
    username: agent?.username ?? '',
    name: agent?.name ?? '',
    password: '',
    role: agent?.role ?? 'AGENT',
    planIds: agent?.plans.map((p) => p.id) ?? [],
    capacity,
    autoAccept: agent?.autoAccept ?? false,
  };
}

/** The capacity entries to send: channels with a number typed, and (editing) changed. */
export function capacityInput(form: AgentForm, agent: LoadedAgent | null): ChannelCapacityInput[] {
  const out: ChannelCapacityInput[] = [];
  for (const channel of CHANNELS) {
    const text = form.capacity[channel].trim();
    if (text === '') continue;
    const max = Number(text);
    const before = agent?.capacity.find((c) => c.channel === channel)?.max;
    if (before !== max) out.push({ channel, max });
  }
  return out;
}

const FORM_FIELDS = new Set(['username', 'name', 'password', 'role', 'planIds', 'capacity', ...CHANNELS.map((c) => `capacity.${c}`)]);

/** Maps an agent mutation's userErrors to the form, capacity entries by the channel sent at that index. */
export function agentErrors(errors: readonly AdminUserError[], sentCapacity: readonly ChannelCapacityInput[]) {
  return fieldErrors(
    errors,
    (key) => FORM_FIELDS.has(key),
    (key) => {
      const m = /^capacity\.(\d+)/.exec(key);
      if (!m) return key;
      const channel = sentCapacity[Number(m[1])]?.channel;
      return channel ? `capacity.${channel}` : 'capacity';
    },
  );
}

/**
 * Create or change an agent: username (create), name, first password (create), role, plans,
 * capacity per channel (0 to 100) and auto-accept. Problems show as the supervisor types, the
 * server's userErrors on the field they name. Editing also offers disable/enable and a password
 * reset.
 */
export function AgentEditor({ agent }: { agent: LoadedAgent | null }) {
  const creating = agent === null;
  const [form, setForm] = useState<AgentForm>(() => agentForm(agent));
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const touched = useTouched();
  const toasts = useToasts();
  const [plans] = useQuery({ query: AdminPlanNamesQuery });
  const [{ fetching: creatingNow }, create] = useMutation(CreateAgentMutation);
  const [{ fetching: updatingNow }, update] = useMutation(UpdateAgentMutation);
  const busy = creatingNow || updatingNow;

  const problems = agentProblems(form, creating) as Record<string, string | undefined>;
  const errorOf = (key: string) => serverErrors[key] ?? (touched.shows(key) ? problems[key] : undefined);

  function change<K extends keyof AgentForm>(key: K, value: AgentForm[K], field: string = key) {
    setForm((f) => ({ ...f, [key]: value }));
    touched.touch(field);
    setSaved(null);
    setServerErrors((e) => {
      if (!e[field] && !e[GENERAL]) return e;
      const next = { ...e };
      delete next[field];
      delete next[GENERAL];
      return next;
    });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    touched.submit();
    if (busy || Object.keys(problems).length > 0) return;
    const capacity = capacityInput(form, agent);
    if (creating) {
      const result = await create({
        input: {
          username: form.username.trim(),
          name: form.name.trim(),
          password: form.password,
          role: form.role,
          planIds: form.planIds,
          capacity,
          autoAccept: form.autoAccept,
        },
      });
      const payload = result.data?.createAgent;
      if (payload?.userErrors.length) return setServerErrors(agentErrors(payload.userErrors, capacity));
      if (!payload?.agent) return setServerErrors({ [GENERAL]: failureMessage(result.error, 'Creating the agent') });
      toasts.show({ message: `Agent ${payload.agent.name} (${payload.agent.username}) created.` });
      navigate('admin', 'agents');
      return;
    }
    const result = await update({
      input: {
        agentId: agent.id,
        name: form.name.trim(),
        role: form.role,
        planIds: form.planIds,
        capacity,
        autoAccept: form.autoAccept,
      },
    });
    const payload = result.data?.updateAgent;
    if (payload?.userErrors.length) return setServerErrors(agentErrors(payload.userErrors, capacity));
    if (!payload?.agent) return setServerErrors({ [GENERAL]: failureMessage(result.error, 'Saving the agent') });
    setSaved('Saved. Capacity, plans and settings apply at once.');
  }

  const planList = plans.data?.interactionPlans ?? [];

  return (
    <section className="admin-section" aria-labelledby="admin-agent-title">
      <header className="admin-section__header">
        <h2 id="admin-agent-title">{creating ? 'New agent' : `Agent ${agent.name}`}</h2>
        <a href={routeHref('admin', 'agents')}>Back to agents</a>
      </header>
      <form className="admin-form" noValidate onSubmit={submit} aria-labelledby="admin-agent-title">
        {creating ? (
          <TextInput
            label="Username"
            value={form.username}
            onChange={(v) => change('username', v)}
            onBlur={() => touched.touch('username')}
            error={errorOf('username')}
            description="One word; they sign in with it."
            isRequired
          />
        ) : (
          <p className="admin-form__fixed">
            Username: <strong>{agent.username}</strong>
          </p>
        )}
        <TextInput
          label="Name"
          value={form.name}
          onChange={(v) => change('name', v)}
          onBlur={() => touched.touch('name')}
          error={errorOf('name')}
          isRequired
        />
        {creating && (
          <TextInput
            label="Password"
            type="password"
            autoComplete="new-password"
            value={form.password}
            onChange={(v) => change('password', v)}
            onBlur={() => touched.touch('password')}
            error={errorOf('password')}
            description="Their first password: at least 8 characters. They can change it later."
            isRequired
          />
        )}
        <div className="field">
          <label htmlFor="admin-agent-role">Role</label>
          <select
            id="admin-agent-role"
            value={form.role}
            aria-invalid={serverErrors.role ? true : undefined}
            aria-describedby={serverErrors.role ? 'admin-agent-role-error' : undefined}
            onChange={(e) => change('role', e.target.value as AgentForm['role'])}
          >
            <option value="AGENT">Agent</option>
            <option value="SUPERVISOR">Supervisor</option>
          </select>
          {serverErrors.role && (
            <p id="admin-agent-role-error" className="field-error">
              {serverErrors.role}
            </p>
          )}
        </div>
        <CheckGroup
          label="Plans"
          value={form.planIds}
          onChange={(v) => change('planIds', v)}
          error={serverErrors.planIds}
          description={planList.length === 0 && !plans.fetching ? 'No plans yet: create one under Plans.' : 'The queues they take work from.'}
        >
          {planList.map((p) => (
            <CheckField key={p.id} value={p.id}>
              {p.name}
            </CheckField>
          ))}
        </CheckGroup>
        <fieldset className="admin-fieldset">
          <legend>Capacity per channel</legend>
          <p className="field__note muted">
            The most live interactions of each channel they hold at once: 0 to 100.
            {creating && ' Leave a channel empty for the default.'}
          </p>
          <div className="admin-grid">
            {CHANNELS.map((channel) => (
              <TextInput
                key={channel}
                label={channelNames[channel]!}
                inputMode="numeric"
                value={form.capacity[channel]}
                onChange={(v) => change('capacity', { ...form.capacity, [channel]: v }, `capacity.${channel}`)}
                error={errorOf(`capacity.${channel}`)}
              />
            ))}
          </div>
          {serverErrors.capacity && <p className="field-error">{serverErrors.capacity}</p>}
        </fieldset>
        <CheckField isSelected={form.autoAccept} onChange={(v) => change('autoAccept', v)} description="Offers are accepted at once; they cannot reject them.">
          Auto-accept
        </CheckField>
        {serverErrors[GENERAL] && (
          <p className="form-error" role="alert">
            {serverErrors[GENERAL]}
          </p>
        )}
        <footer className="admin-form__footer">
          <button type="submit" className="button button--primary" aria-disabled={busy}>
            {busy ? 'Saving…' : creating ? 'Create agent' : 'Save changes'}
          </button>
          {saved && <Status>{saved}</Status>}
        </footer>
      </form>
      {!creating && <AgentAccount agent={agent} />}
    </section>
  );
}

/** Disable or enable the agent (disabling asks first and says what happens), and reset the password. */
function AgentAccount({ agent }: { agent: LoadedAgent }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [passwordTouched, setPasswordTouched] = useState(false);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [{ fetching }, update] = useMutation(UpdateAgentMutation);

  async function setDisabled(disabled: boolean) {
    setError(null);
    const result = await update({ input: { agentId: agent.id, disabled } });
    const payload = result.data?.updateAgent;
    const message = payload?.userErrors[0]?.message ?? (payload?.agent ? null : failureMessage(result.error, disabled ? 'Disabling' : 'Enabling'));
    if (message) return setError(message);
    setConfirming(false);
    setStatus(disabled ? `${agent.name} is disabled and signed out.` : `${agent.name} is enabled again.`);
  }

  async function resetPassword(event: FormEvent) {
    event.preventDefault();
    setPasswordTouched(true);
    if (passwordProblem(password) || fetching) return;
    setPasswordError(null);
    const result = await update({ input: { agentId: agent.id, password } });
    const payload = result.data?.updateAgent;
    const message = payload?.userErrors[0]?.message ?? (payload?.agent ? null : failureMessage(result.error, 'Resetting the password'));
    if (message) return setPasswordError(message);
    setPassword('');
    setPasswordTouched(false);
    setStatus(`Password reset: ${agent.name}’s sessions have ended. Give them the new password.`);
  }

  const shownPasswordProblem = passwordError ?? (passwordTouched ? passwordProblem(password) : null);

  return (
    <section className="admin-account" aria-labelledby="admin-account-title">
      <h3 id="admin-account-title">Account</h3>
      <p>
        Status: <strong>{agent.disabled ? 'Disabled' : 'Active'}</strong>
      </p>
      {agent.disabled ? (
        <button type="button" className="button" aria-disabled={fetching} onClick={() => !fetching && setDisabled(false)}>
          Enable agent
        </button>
      ) : (
        <button type="button" className="button button--danger" aria-haspopup="dialog" onClick={() => setConfirming(true)}>
          Disable agent…
        </button>
      )}
      {error && !confirming && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <form className="admin-form admin-form--inline" noValidate onSubmit={resetPassword} aria-label="Reset password">
        <TextInput
          label="New password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(v) => {
            setPassword(v);
            setPasswordTouched(true);
            setPasswordError(null);
          }}
          error={shownPasswordProblem}
          description="At least 8 characters. Resetting ends their sessions at once."
        />
        <button type="submit" className="button">
          Reset password
        </button>
      </form>
      {status && <Status>{status}</Status>}
      {confirming && (
        <ConfirmDialog
          title={`Disable ${agent.name}?`}
          confirmLabel="Disable agent"
          busy={fetching}
          error={error}
          onConfirm={() => setDisabled(true)}
          onCancel={() => {
            setConfirming(false);
            setError(null);
          }}
        >
          <p>
            {agent.name} is signed out at once and can no longer sign in. The interactions they hold now go back to
            their plans’ queues, with a notice in each transcript. Their history stays, and you can enable them again.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
