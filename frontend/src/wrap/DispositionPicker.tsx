import { useId, useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { LogInteractionFragment } from '../gql/graphql';

const SelectDispositionMutation = graphql(`
  mutation SelectDisposition($input: SelectDispositionInput!) {
    selectDisposition(input: $input) {
      interaction {
        id
        dispositions {
          code
          label
        }
      }
      userErrors {
        code
        message
      }
    }
  }
`);

/**
 * Disposition codes of the interaction's plan. While ACTIVE one code is kept, so it is a single
 * choice that replaces the last (H2); in WRAP codes add up (W3), and the API has no removal, so
 * a chosen code stays ticked.
 */
export function DispositionPicker({
  interaction,
  disabled = false,
}: {
  interaction: LogInteractionFragment;
  disabled?: boolean;
}) {
  const selectId = useId();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [, select] = useMutation(SelectDispositionMutation);
  const codes = interaction.plan?.dispositionCodes ?? [];
  const chosen = new Set(interaction.dispositions.map((d) => d.code));

  async function choose(code: string) {
    setError(null);
    setPending(code);
    const result = await select({ input: { interactionId: interaction.id, code } });
    setPending(null);
    const userError = result.data?.selectDisposition.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('The code could not be saved. Try again.');
  }

  if (codes.length === 0) return null;

  const errorLine = error && (
    <p className="form-error" role="alert">
      {error}
    </p>
  );

  if (interaction.state === 'WRAP') {
    return (
      <fieldset className="field dispositions" aria-busy={pending !== null}>
        <legend>
          Disposition codes
          {interaction.plan?.dispositionRequired && <span className="muted"> (required)</span>}
        </legend>
        {codes.map(({ code, label }) => {
          const checked = chosen.has(code) || pending === code;
          return (
            <label key={code} className="dispositions__option">
              <input
                type="checkbox"
                checked={checked}
                disabled={checked || pending !== null}
                onChange={() => void choose(code)}
              />
              {label}
            </label>
          );
        })}
        {errorLine}
      </fieldset>
    );
  }

  return (
    <div className="field">
      <label htmlFor={selectId}>Disposition code</label>
      <select
        id={selectId}
        value={pending ?? interaction.dispositions[0]?.code ?? ''}
        disabled={disabled || pending !== null}
        onChange={(event) => {
          if (event.target.value) void choose(event.target.value);
        }}
      >
        <option value="" disabled>
          Choose a code…
        </option>
        {codes.map(({ code, label }) => (
          <option key={code} value={code}>
            {label}
          </option>
        ))}
      </select>
      {errorLine}
    </div>
  );
}
