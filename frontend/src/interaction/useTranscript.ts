import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { useResync } from '../connection/ConnectionContext';
import { graphql } from '../gql';

/** Tail fetches for one missing message before waiting for the next event. */
const MAX_TAIL_ATTEMPTS = 3;

const TranscriptQuery = graphql(`
  query Transcript($id: ID!, $after: String) {
    interaction(id: $id) {
      id
      # The server's largest page. It prices each item of a page against its complexity limit
      # (default 5000): with these fields 100 messages cost about 2000.
      transcript(first: 100, after: $after) {
        edges {
          cursor
          node {
            ...TranscriptMessage
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

/**
 * The whole transcript of an interaction, oldest first, kept in graphcache: pages are fetched one
 * after another with `after` and merged by relayPagination (cache.ts). New messages are picked up
 * by fetching the page after the last cursor whenever the interaction's `lastMessage` is one the
 * transcript does not hold yet, and again after every websocket (re)connection, so a message
 * sent while the socket was down still appears, exactly once and in order. With `live` false
 * (an interaction handed over to someone else, which this agent may no longer read) it shows
 * what it holds and fetches nothing more.
 */
export function useTranscript(interactionId: string, latestMessageId: string | undefined, live = true) {
  const [after, setAfter] = useState<string | null>(null);
  const [result, reexecute] = useQuery({
    query: TranscriptQuery,
    variables: { id: interactionId, after },
  });
  const connection = result.data?.interaction?.transcript;
  const endCursor = connection?.pageInfo.endCursor ?? null;
  const hasNextPage = connection?.pageInfo.hasNextPage ?? false;
  const messages = useMemo(() => connection?.edges.map((edge) => edge.node) ?? [], [connection]);
  const loaded = connection !== undefined && !hasNextPage;

  // Page through to the end (adjusting state while rendering, as React recommends over effects).
  if (!result.fetching && hasNextPage && endCursor && endCursor !== after) setAfter(endCursor);

  // Whatever came after the last message arrives by refetching the last page: it holds up to a
  // page of newer messages, and when more follow, the paging above carries on.
  const refreshTail = useCallback(
    () => reexecute({ requestPolicy: 'network-only' }),
    [reexecute],
  );

  // A message the card knows of and the transcript does not: fetch the tail. A few attempts per
  // message, because a response that left before the message was stored can arrive after it.
  const asked = useRef<{ id: string; attempts: number } | null>(null);
  useEffect(() => {
    if (!live || !loaded || result.fetching || !latestMessageId) return;
    if (messages.some((m) => m.id === latestMessageId)) return;
    const attempts = asked.current?.id === latestMessageId ? asked.current.attempts : 0;
    if (attempts >= MAX_TAIL_ATTEMPTS) return;
    asked.current = { id: latestMessageId, attempts: attempts + 1 };
    refreshTail();
  }, [live, loaded, result.fetching, latestMessageId, messages, refreshTail]);

  useResync(() => {
    if (live) refreshTail();
  });

  return {
    messages,
    /** Still paging through older messages. */
    loading: connection === undefined ? result.fetching || !result.error : hasNextPage,
    error: connection === undefined ? result.error : undefined,
    retry: () => reexecute({ requestPolicy: 'network-only' }),
    refreshTail,
  };
}
