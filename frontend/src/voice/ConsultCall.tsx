import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { normalisePhone, phoneProblem } from '../outbound/phone';
import { OutboundIdentitiesQuery } from '../outbound/StartOutboundDialog';

const StartCallMutation = graphql(`
  mutation StartCall($input: StartCallInput!) {
    startCall(input: $input) {
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

/**
 * Call from a chat or an email (X1): a consult call to a number, from a voice identity, linked
 * to the conversation it came from, which stays open meanwhile. The call counts against the
 * agent's voice capacity.
 */
export function ConsultCall({ interactionId, onStarted }: { interactionId: string; onStarted?: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [to, setTo] = useState('');
  const [identityId, setIdentityId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [{ data }] = useQuery({ query: OutboundIdentitiesQuery, variables: { channel: 'VOICE' }, pause: !open });
  const [starting, start] = useMutation(StartCallMutation);
  const toId = useId();
  const fromId = useId();
  const identities = data?.channelIdentities ?? [];
  const from = identityId || identities[0]?.id || '';

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = !from ? 'No voice number is set up for calls: ask a supervisor.' : phoneProblem(to);
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    const result = await start({ input: { to: normalisePhone(to) ?? to, identityId: from, fromInteractionId: interactionId } });
    const refused = result.data?.startCall.userErrors[0]?.message;
    if (refused || result.error) {
      setError(refused ?? 'The call could not be placed.');
      return;
    }
    setOpen(false);
    setTo('');
    const id = result.data?.startCall.interaction?.id;
    if (id) onStarted?.(id);
  }

  if (!open)
    return (
      <button type="button" className="button" onClick={() => setOpen(true)}>
        Call…
      </button>
    );
  return (
    <form className="consult-call" aria-label="Consult call" onSubmit={submit}>
      <label htmlFor={toId}>Number</label>
      <input id={toId} type="tel" value={to} onChange={(e) => setTo(e.target.value)} placeholder="+44 20 7946 0000" autoFocus />
      {identities.length > 1 && (
        <>
          <label htmlFor={fromId}>From</label>
          <select id={fromId} value={from} onChange={(e) => setIdentityId(e.target.value)}>
            {identities.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name} ({i.address})
              </option>
            ))}
          </select>
        </>
      )}
      <button type="submit" className="button button--primary" disabled={starting.fetching}>
        Call
      </button>
      <button type="button" className="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <p className="consult-call__error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
