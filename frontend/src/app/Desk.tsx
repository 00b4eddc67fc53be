import { useCallback, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { ConnectionBanner } from '../connection/ConnectionBanner';
import { useResync } from '../connection/ConnectionContext';
import { InsightsPanel } from '../insights/InsightsPanel';
import { InteractionArea } from '../interaction/InteractionArea';
import { MessageFeed } from '../interaction/MessageFeed';
import { ConversationLog } from '../log/ConversationLog';
import { contactName } from '../log/channel';
import { InteractionDetailQuery, MyInteractionsQuery } from '../log/logInteraction';
import { useToasts } from '../toast/Toasts';
import { LogChat } from '../wrap/WrapPanel';
import { useDeskEvents } from './useDeskEvents';

/**
 * The agent's work area: the conversation log, the open interaction, and beside it the log/wrap
 * panel and insights. The log is `myInteractions` in graphcache, kept current by subscriptions
 * and re-queried whenever the websocket (re)connects, so nothing missed while it was down stays
 * missing. Which interaction is open is the only state kept here.
 */
export function Desk({ ready }: { ready: boolean }) {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: MyInteractionsQuery });
  const toasts = useToasts();
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [flashing, setFlashing] = useState<ReadonlySet<string>>(new Set());

  const interactions = useMemo(() => data?.myInteractions ?? [], [data]);
  const openId =
    interactions.find((i) => i.id === selectedId && i.state !== 'OFFERED')?.id ?? null;
  const [detail, reexecuteDetail] = useQuery({
    query: InteractionDetailQuery,
    variables: { id: openId ?? '' },
    pause: openId === null,
  });
  const selected = (openId && detail.data?.interaction?.id === openId && detail.data.interaction) || null;

  useResync(() => {
    reexecute({ requestPolicy: 'network-only' });
    if (openId) reexecuteDetail({ requestPolicy: 'network-only' });
  });

  const select = useCallback((id: string) => {
    setSelectedId(id);
    setFlashing((current) => {
      if (!current.has(id)) return current;
      const next = new Set(current);
      next.delete(id);
      return next;
    });
  }, []);

  const flash = useCallback((id: string) => {
    setFlashing((current) => new Set(current).add(id));
  }, []);

  useDeskEvents({ selectedId: openId, select, flash });

  const onCompleted = useCallback(
    (id: string) => {
      const done = interactions.find((i) => i.id === id);
      setSelectedId(null);
      if (done) toasts.show({ message: `Completed: ${contactName(done.contact)}.`, timeoutMs: 4000 });
      // Back to the log, where the next conversation is.
      document.querySelector<HTMLElement>('.log [role=tab]')?.focus();
    },
    [interactions, toasts],
  );

  return (
    <div className="desk">
      <ConnectionBanner />
      {interactions
        .filter((i) => i.state !== 'OFFERED')
        .map((i) => (
          <MessageFeed key={i.id} interactionId={i.id} />
        ))}
      {error && !data && (
        <div className="card notice" role="alert">
          <p>Your conversations could not be loaded.</p>
          <button
            type="button"
            className="button"
            onClick={() => reexecute({ requestPolicy: 'network-only' })}
          >
            Try again
          </button>
        </div>
      )}
      <div className="desk__columns">
        <ConversationLog
          interactions={interactions}
          loading={fetching && !data}
          ready={ready}
          selectedId={openId}
          flashing={flashing}
          onSelect={select}
        />
        {selected ? (
          <>
            <InteractionArea key={selected.id} interaction={selected} />
            <aside className="side" aria-label="Interaction details">
              <LogChat key={selected.id} interaction={selected} onCompleted={onCompleted} />
              <InsightsPanel key={`${selected.id}-insights`} interaction={selected} />
            </aside>
          </>
        ) : (
          <section className="interaction interaction--empty" aria-label="Interaction">
            <p className="muted">
              {openId
                ? detail.error
                  ? 'This conversation could not be loaded.'
                  : 'Loading…'
                : interactions.some((i) => i.state !== 'OFFERED')
                  ? 'Choose a conversation in the log to open it.'
                  : 'Accepted conversations open here.'}
            </p>
          </section>
        )}
      </div>
    </div>
  );
}
