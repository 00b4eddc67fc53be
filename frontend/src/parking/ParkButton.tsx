import { useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { useToasts } from '../toast/Toasts';

const ParkInteractionMutation = graphql(`
  mutation ParkInteraction($input: InteractionInput!) {
    parkInteraction(input: $input) {
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

/**
 * Park (K1): the interaction moves to the Parked tab and frees its capacity until the contact
 * replies or the parked time runs out. Nothing is lost by parking, so it asks no confirmation.
 */
export function ParkButton({ interactionId, contactName }: { interactionId: string; contactName: string }) {
  const [{ fetching }, park] = useMutation(ParkInteractionMutation);
  const [error, setError] = useState<string | null>(null);
  const toasts = useToasts();

  async function onPark() {
    setError(null);
    const result = await park({ input: { interactionId } });
    const userError = result.data?.parkInteraction.userErrors[0];
    if (userError) setError(userError.message);
    else if (result.error) setError(result.error.graphQLErrors[0]?.message ?? 'It could not be parked. Try again.');
    else toasts.show({ message: `Parked: ${contactName} waits in the Parked tab until they reply.`, timeoutMs: 5000 });
  }

  return (
    <>
      <button type="button" className="button" onClick={onPark} disabled={fetching}>
        Park
      </button>
      {error && (
        <p className="control-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
