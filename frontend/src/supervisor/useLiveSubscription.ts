import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { onEnd, pipe, subscribe } from 'wonka';

/** Waits before subscribing again after an error or a close: 1 s, doubling up to 10 s. */
export function resubscribeDelay(attempt: number): number {
  return Math.min(1000 * 2 ** attempt, 10_000);
}

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

/**
 * Keeps one subscription open for as long as the caller is mounted; graphcache applies its events.
 * A dropped socket is graphql-ws' to reopen (the connection banner says so). A subscription the
 * server ends or refuses is opened again here after a pause, and `onRestart` runs when it is,
 * so the caller re-queries what it missed. The status is 'live' once an event has arrived.
 */
export function useLiveSubscription<Data, Variables extends AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  onRestart: () => void,
  delay: (attempt: number) => number = resubscribeDelay,
): LiveStatus {
  const client = useClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const restart = useRef(onRestart);
  const wait = useRef(delay);
  useEffect(() => {
    restart.current = onRestart;
    wait.current = delay;
  });

  useEffect(() => {
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stop: (() => void) | undefined;

    const down = () => {
      if (stopped) return;
      stop?.();
      stop = undefined;
      setStatus('reconnecting');
      clearTimeout(timer);
      timer = setTimeout(() => {
        attempt++;
        open();
        restart.current();
      }, wait.current(attempt));
    };

    function open() {
      if (stopped) return;
      let ended = false;
      const { unsubscribe } = pipe(
        client.subscription(query, {} as Variables),
        onEnd(() => {
          ended = true;
          // Ends on unsubscribe too: only a close the caller did not ask for is a drop.
          if (!stopped && stop !== undefined) queueMicrotask(down);
        }),
        subscribe((result) => {
          if (result.error) {
            queueMicrotask(down);
          } else if (result.data) {
            attempt = 0;
            setStatus('live');
          }
        }),
      );
      stop = ended ? undefined : unsubscribe;
      if (ended) queueMicrotask(down);
    }

    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      stop?.();
    };
  }, [client, query]);

  return status;
}
