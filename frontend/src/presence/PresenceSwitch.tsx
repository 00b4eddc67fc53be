import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { PresenceState, PresenceSwitch_AgentFragment } from '../gql/graphql';

export const PresenceSwitchFragment = graphql(`
  fragment PresenceSwitch_agent on Agent {
    id
    presence
  }
`);

const SetPresenceMutation = graphql(`
  mutation SetPresence($input: SetPresenceInput!) {
    setPresence(input: $input) {
      agent {
        id
        presence
        presenceSince
      }
      userErrors {
        code
        message
      }
    }
  }
`);

export const presenceOptions: { value: PresenceState; label: string }[] = [
  { value: 'READY', label: 'Ready' },
  { value: 'NOT_READY', label: 'Not Ready' },
  { value: 'OFFLINE', label: 'Offline' },
];

/**
 * Ready / Not Ready / Offline as native radio buttons: arrow keys move between them and screen
 * readers announce the group. The checked option is the server's state (kept in the urql cache);
 * while a change is in flight the chosen option is shown so the switch does not flicker back.
 */
export function PresenceSwitch({ agent }: { agent: PresenceSwitch_AgentFragment }) {
  const labelId = useId();
  const [pending, setPending] = useState<PresenceState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, setPresence] = useMutation(SetPresenceMutation);
  const shown = pending ?? agent.presence;

  async function choose(presence: PresenceState) {
    setPending(presence);
    setError(null);
    const result = await setPresence({ input: { presence } });
    setPending(null);
    const userError = result.data?.setPresence.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('Presence could not be changed. Try again.');
  }

  return (
    <div className="presence">
      <span id={labelId} className="presence__label">
        Presence
      </span>
      <div
        role="radiogroup"
        aria-labelledby={labelId}
        aria-busy={pending !== null}
        className="presence__options"
      >
        {presenceOptions.map((option) => (
          <label key={option.value} className="presence__option" data-presence={option.value}>
            <input
              type="radio"
              name={`${labelId}-presence`}
              value={option.value}
              checked={shown === option.value}
              onChange={() => choose(option.value)}
            />
            <span className="presence__dot" aria-hidden="true" />
            {option.label}
          </label>
        ))}
      </div>
      <span className="presence__error" role="status">
        {error}
      </span>
    </div>
  );
}
