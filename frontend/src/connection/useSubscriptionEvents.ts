import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { useEffect, useRef } from 'react';
import { useClient } from 'urql';

/**
 * Runs `onData` once per subscription event. Unlike urql's useSubscription, the callback runs
 * outside React's state updates, so side effects (toasts, sounds) happen exactly once per event
 * even under StrictMode. Graphcache applies the event to the cache either way.
 */
export function useSubscriptionEvents<Data, Variables extends AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  onData: (data: Data) => void,
) {
  const client = useClient();
  const latest = useRef(onData);
  useEffect(() => {
    latest.current = onData;
  });
  const key = JSON.stringify(variables);
  useEffect(() => {
    const vars = JSON.parse(key) as Variables;
    const { unsubscribe } = client.subscription(query, vars).subscribe((result) => {
      if (result.data) latest.current(result.data);
    });
    return unsubscribe;
  }, [client, query, key]);
}
