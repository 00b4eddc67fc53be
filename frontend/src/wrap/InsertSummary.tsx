import { useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { Notes } from './useNotes';

const InsertSummaryMutation = graphql(`
  mutation InsertSummary($input: InsertSummaryInput!) {
    insertSummary(input: $input) {
      interaction {
        id
        notes
      }
      userErrors {
        code
        message
      }
    }
  }
`);

/**
 * Insert Summary (W4): the server appends a recap of the transcript to the notes on a new
 * paragraph, after what the agent typed, which is saved first so nothing is lost. The recap's
 * first line says who wrote it (offline, or the language model).
 */
export function InsertSummaryButton({ interactionId, notes }: { interactionId: string; notes: Notes }) {
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, insert] = useMutation(InsertSummaryMutation);

  async function onInsert() {
    setError(null);
    if (!(await notes.flush())) {
      setError('Notes are not saved yet, so no summary was inserted. Try again.');
      return;
    }
    const result = await insert({ input: { interactionId } });
    const userError = result.data?.insertSummary.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError('The summary could not be inserted. Try again.');
  }

  return (
    <div className="insert-summary">
      <button type="button" className="button" onClick={onInsert} disabled={fetching}>
        {fetching ? 'Summarising…' : 'Insert summary'}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
