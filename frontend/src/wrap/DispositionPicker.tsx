import { useId, useRef, useState } from 'react';
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
 * a chosen code stays ticked. Choices go to the server one after another, in order (while ACTIVE
 * only the latest matters). Nothing is disabled while a choice is on its way, so the focus stays
 * where the keyboard left it: arrow keys on the list, Space on a box.
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
  // Codes on their way to the server, oldest first.
  const [pending, setPending] = useState<readonly string[]>([]);
  const [, select] = useMutation(SelectDispositionMutation);
  const codes = interaction.plan?.dispositionCodes ?? [];
  const chosen = new Set(interaction.dispositions.map((d) => d.code));
  const wrapping = interaction.state === 'WRAP';
  const queue = useRef<Promise<void>>(Promise.resolve());
  const latest = useRef<string | null>(null);

  function choose(code: string) {
    setError(null);
    setPending((codes) => [...codes, code]);
    latest.current = code;
    const done = () => setPending((codes) => codes.filter((c) => c !== code));
    queue.current = queue.current.then(async () => {
      // While ACTIVE a later choice replaces this one: only the latest is sent.
      if (!wrapping && latest.current !== code) return done();
      const result = await select({ input: { interactionId: interaction.id, code } });
      done();
      const userError = result.data?.selectDisposition.userErrors[0];
      if (userError) setError(userError.message);
      else if (result.error) setError('The code could not be saved. Try again.');
    });
  }

  if (codes.length === 0) return null;

  const suggestions = !disabled && (
    <SuggestionChips interaction={interaction} chosen={(code) => chosen.has(code) || pending.includes(code)} onChoose={choose} />
  );

  const errorLine = error && (
    <p className="form-error" role="alert">
      {error}
    </p>
  );

  if (wrapping) {
    return (
      <fieldset className="field dispositions" aria-busy={pending.length > 0}>
        <legend>
          Disposition codes
          {interaction.plan?.dispositionRequired && <span className="muted"> (required)</span>}
        </legend>
        {suggestions}
        {codes.map(({ code, label }) => {
          const checked = chosen.has(code) || pending.includes(code);
          return (
            <label key={code} className="dispositions__option">
              {/* A chosen code cannot be taken back; it stays focusable (aria-disabled). */}
              <input
                type="checkbox"
                checked={checked}
                aria-disabled={checked}
                onChange={() => {
                  if (!checked) choose(code);
                }}
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
      {suggestions}
      <label htmlFor={selectId}>Disposition code</label>
      <select
        id={selectId}
        value={pending.at(-1) ?? interaction.dispositions[0]?.code ?? ''}
        disabled={disabled}
        aria-busy={pending.length > 0}
        onChange={(event) => {
          if (event.target.value) choose(event.target.value);
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

/**
 * Agent Assist's suggested codes (W4), best first, as chips: one click chooses the code. They
 * come with the interaction, so they refresh with its updates as the contact writes; none show
 * when the plan has assist off or the model is unsure.
 */
function SuggestionChips({
  interaction,
  chosen,
  onChoose,
}: {
  interaction: LogInteractionFragment;
  chosen: (code: string) => boolean;
  onChoose: (code: string) => void;
}) {
  const labelId = useId();
  const suggestions = interaction.dispositionSuggestions;
  if (suggestions.length === 0) return null;
  return (
    <div className="suggestions" role="group" aria-labelledby={labelId}>
      <span id={labelId} className="suggestions__label muted">
        Suggested
      </span>
      {suggestions.map(({ code, confidence }) => {
        const on = chosen(code.code);
        return (
          <button
            key={code.code}
            type="button"
            className="chip"
            aria-pressed={on}
            data-code={code.code}
            title={`${Math.round(confidence * 100)} % likely`}
            onClick={() => {
              if (!on) onChoose(code.code);
            }}
          >
            {code.label}
          </button>
        );
      })}
    </div>
  );
}
