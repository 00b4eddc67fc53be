import { useEffect, useId, useRef, useState } from 'react';
import { Modal } from '../modal/Modal';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { Channel, PresenceState } from '../gql/graphql';
import { conversationNoun } from '../interaction/EndControl';
import { channelLabel } from '../log/channel';
import { presenceOptions } from '../presence/PresenceSwitch';

const TransferTargetsQuery = graphql(`
  query TransferTargets($search: String, $recentOnly: Boolean) {
    transferTargets(search: $search, recentOnly: $recentOnly) {
      id
      name
      presence
    }
  }
`);

const TransferPlansQuery = graphql(`
  query TransferPlans($search: String) {
    interactionPlans(search: $search) {
      id
      name
      channels
    }
  }
`);

const TransferInteractionMutation = graphql(`
  mutation TransferInteraction($input: TransferInput!) {
    transferInteraction(input: $input) {
      interaction {
        ...LogInteraction
      }
      userErrors {
        code
        message
      }
    }
  }
`);

export type TransferFilter = 'all' | 'recent' | 'plans';
const filters: { value: TransferFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'recent', label: 'Recent agents' },
  { value: 'plans', label: 'Plans' },
];

/** Quiet time after the last keystroke before the search runs. */
export const SEARCH_DELAY_MS = 250;

const presenceLabel = (presence: PresenceState) =>
  presenceOptions.find((o) => o.value === presence)?.label ?? presence;

export interface Transferred {
  kind: 'agent' | 'plan';
  name: string;
}

/**
 * The transfer dialog (T1, T2): one search over agents and plans, filters for recently
 * contacted agents and for plans, and a Transfer button on each row. The server lists only
 * READY agents; plans are those that take the interaction's channel. A refusal (the agent is no
 * longer READY or has no room, a transfer is already waiting…) shows in the dialog.
 *
 * A modal (react-aria-components, see Modal): it renders over the page (the rest is inert),
 * keeps focus inside, and Escape, a click outside or Cancel closes it.
 */
export function TransferDialog({
  interactionId,
  channel,
  contactName,
  onClose,
  onTransferred,
}: {
  interactionId: string;
  channel: Channel;
  contactName: string;
  onClose: () => void;
  onTransferred: (to: Transferred) => void;
}) {
  const searchId = useId();
  const filterName = useId();
  const searchRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState<TransferFilter>('all');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState<string | null>(null);
  const [, transfer] = useMutation(TransferInteractionMutation);

  const [agents, refetchAgents] = useQuery({
    query: TransferTargetsQuery,
    variables: { search: search || null, recentOnly: filter === 'recent' },
    pause: filter === 'plans',
    // Who is READY changes all the time: show what is cached, then what the server says.
    requestPolicy: 'cache-and-network',
  });
  const [plans] = useQuery({
    query: TransferPlansQuery,
    variables: { search: search || null },
    pause: filter === 'recent',
    requestPolicy: 'cache-and-network',
  });

  useEffect(() => {
    const timer = setTimeout(() => setSearch(text.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const agentRows = filter === 'plans' ? [] : (agents.data?.transferTargets ?? []);
  const planRows =
    filter === 'recent' ? [] : (plans.data?.interactionPlans ?? []).filter((p) => p.channels.includes(channel));
  const loading = (filter !== 'plans' && agents.fetching && !agents.data) || (filter !== 'recent' && plans.fetching && !plans.data);
  const failed = (filter !== 'plans' && agents.error && !agents.data) || (filter !== 'recent' && plans.error && !plans.data);

  async function send(to: { toAgentId: string } | { toPlanId: string }, done: Transferred, key: string) {
    if (sending) return;
    setError(null);
    setSending(key);
    const result = await transfer({ input: { interactionId, ...to } });
    setSending(null);
    const userError = result.data?.transferInteraction.userErrors[0];
    // NOT_FOUND and FORBIDDEN come as GraphQL errors rather than userErrors: show those too.
    const message =
      userError?.message ??
      (result.error ? (result.error.graphQLErrors[0]?.message ?? 'The transfer could not be sent. Check the connection and try again.') : null);
    if (message) {
      setError(message);
      // Someone who is no longer READY (or has no room) should drop off the list.
      if (userError?.code === 'TARGET_UNAVAILABLE') refetchAgents({ requestPolicy: 'network-only' });
      return;
    }
    onTransferred(done);
  }

  const noun = conversationNoun(channel);
  const empty = !loading && !failed && agentRows.length === 0 && planRows.length === 0;

  return (
    <Modal
      className="transfer-dialog"
      title={<>Transfer the {noun} with {contactName}</>}
      sub="Cold transfer: an agent gets it to accept or reject with its whole transcript; a queue takes it at once."
      onClose={onClose}
      initialFocus={searchRef}
    >
      <div className="transfer-dialog__search">
        <label htmlFor={searchId}>Search agents and plans</label>
        <input
          ref={searchRef}
          id={searchId}
          type="search"
          autoComplete="off"
          value={text}
          placeholder="Name or username"
          onChange={(event) => setText(event.target.value)}
        />
      </div>
      <div role="radiogroup" aria-label="Show" className="segmented">
        {filters.map((f) => (
          <label key={f.value} className="segmented__option">
            <input
              type="radio"
              name={filterName}
              value={f.value}
              checked={filter === f.value}
              onChange={() => setFilter(f.value)}
            />
            {f.label}
          </label>
        ))}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="transfer-dialog__results" aria-busy={loading}>
        {agentRows.length > 0 && (
          <section aria-label={filter === 'recent' ? 'Recent agents' : 'Agents'}>
            <h3 className="transfer-dialog__heading">{filter === 'recent' ? 'Recent agents' : 'Agents'}</h3>
            <ul className="transfer-list">
              {agentRows.map((agent) => (
                <li key={agent.id} className="transfer-row">
                  <span className="transfer-row__name">{agent.name}</span>
                  <span className="transfer-row__meta" data-presence={agent.presence}>
                    <span className="presence__dot" aria-hidden="true" />
                    {presenceLabel(agent.presence)}
                  </span>
                  <button
                    type="button"
                    className="button button--small button--primary"
                    aria-label={`Transfer to ${agent.name}`}
                    disabled={sending !== null}
                    onClick={() => send({ toAgentId: agent.id }, { kind: 'agent', name: agent.name }, agent.id)}
                  >
                    {sending === agent.id ? 'Transferring…' : 'Transfer'}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        {planRows.length > 0 && (
          <section aria-label="Plans">
            <h3 className="transfer-dialog__heading">Plans</h3>
            <ul className="transfer-list">
              {planRows.map((plan) => (
                <li key={plan.id} className="transfer-row">
                  <span className="transfer-row__name">{plan.name}</span>
                  <span className="transfer-row__meta">Queue</span>
                  <button
                    type="button"
                    className="button button--small button--primary"
                    aria-label={`Transfer to the ${plan.name} queue`}
                    disabled={sending !== null}
                    onClick={() => send({ toPlanId: plan.id }, { kind: 'plan', name: plan.name }, plan.id)}
                  >
                    {sending === plan.id ? 'Transferring…' : 'Transfer'}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        {loading && <p className="muted transfer-dialog__note">Searching…</p>}
        {failed && (
          <p className="form-error" role="alert">
            The list could not be loaded. Check the connection and try again.
          </p>
        )}
        {empty && (
          <p className="muted transfer-dialog__note">
            {filter === 'recent'
              ? 'No recently contacted agent is Ready right now.'
              : filter === 'plans'
                ? `No plan that takes ${channelLabel[channel]} matches.`
                : 'No Ready agent or plan matches.'}
          </p>
        )}
      </div>
      <footer className="modal__footer">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
      </footer>
    </Modal>
  );
}
