import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';

export const CannedResponsesQuery = graphql(`
  query CannedResponses($search: String, $planId: ID) {
    cannedResponses(search: $search, planId: $planId) {
      id
      title
      text
    }
  }
`);

/** How long typing must pause before the search is sent. */
export const SEARCH_DEBOUNCE_MS = 150;

/** What the picker shows at most; the rest is found by typing more. */
export const MAX_SHOWN = 20;

/**
 * The canned responses of the interaction's plan and the global ones whose title or text match
 * `search` (the server searches), fetched once typing pauses. Nothing is fetched while `open`
 * is false.
 */
export function useCannedResponses(search: string, planId: string | null | undefined, open: boolean) {
  const [debounced, setDebounced] = useState(search);
  useEffect(() => {
    if (search === debounced) return;
    const timer = setTimeout(() => setDebounced(search), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search, debounced]);

  const [{ data, fetching, error }] = useQuery({
    query: CannedResponsesQuery,
    variables: { search: debounced.trim() || null, planId: planId ?? null },
    pause: !open,
    requestPolicy: 'cache-and-network',
  });
  return {
    responses: (data?.cannedResponses ?? []).slice(0, MAX_SHOWN),
    // Still typing, or the answer for what was typed is on its way.
    searching: search !== debounced || (fetching && !data),
    failed: error !== undefined && !data,
  };
}
