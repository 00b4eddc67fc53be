import { useCallback, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { ConnectionBanner } from '../connection/ConnectionBanner';
import { useResync } from '../connection/ConnectionContext';
import { InsightsPanel } from '../insights/InsightsPanel';
import { InteractionArea } from '../interaction/InteractionArea';
import { MessageFeed } from '../interaction/MessageFeed';
import { ConversationLog } from '../log/ConversationLog';
import { contactName } from '../log/channel';
import { InteractionDetailQuery, isOffer, MyInteractionsQuery } from '../log/logInteraction';
import { NewInteractionMenu } from '../outbound/NewInteractionMenu';
import { useToasts } from '../toast/Toasts';
import { handedOverTo } from '../transfer/transferText';
import { Softphone } from '../voice/Softphone';
import { LogChat } from '../wrap/WrapPanel';
import { useDeskEvents } from './useDeskEvents';

/**
 * The agent's work area: the conversation log, the open interaction, and beside it the log/wrap
 * panel and insights. The log is `myInteractions` in graphcache, kept current by subscriptions
 * and re-queried whenever the websocket (re)connects, so nothing missed while it was down stays
 * missing. Which interaction is open is the only state kept here; one handed over to someone
 * else (an accepted transfer) stays open read-only until the agent opens another.
 */
export function Desk({ ready, meId }: { ready: boolean; meId: string }) {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: MyInteractionsQuery });
  const toasts = useToasts();
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [flashing, setFlashing] = useState<ReadonlySet<string>>(new Set());
  // The conversation an offer was just accepted into: its reply box takes the focus.
  const [replyFocus, setReplyFocus] = useState<string | null>(null);

  const interactions = useMemo(() => data?.myInteractions ?? [], [data]);
  const inLog = interactions.find((i) => i.id === selectedId);
  // Offers open only once accepted.
  const openable = selectedId !== null && !(inLog && isOffer(inLog));
  const [detail, reexecuteDetail] = useQuery({
    query: InteractionDetailQuery,
    variables: { id: selectedId ?? '' },
    pause: !openable,
  });
  const loaded = (openable && detail.data?.interaction?.id === selectedId && detail.data.interaction) || null;
  // Someone else has it now (T5): it stays open, read-only, even once it has left the log; one
  // that left the log because it is over closes.
  const handedOver = loaded ? handedOverTo(loaded, meId) : null;
  const openId = openable && (inLog || handedOver) ? selectedId : null;
  const selected = openId ? loaded : null;

  useResync(() => {
    reexecute({ requestPolicy: 'network-only' });
    // A handed-over interaction is no longer readable: keep what is shown.
    if (openId && !handedOver) reexecuteDetail({ requestPolicy: 'network-only' });
  });

  const select = useCallback((id: string) => {
    setSelectedId(id);
    setReplyFocus(null);
    setFlashing((current) => {
      if (!current.has(id)) return current;
      const next = new Set(current);
      next.delete(id);
      return next;
    });
  }, []);

  const accepted = useCallback(
    (id: string) => {
      select(id);
      setReplyFocus(id);
    },
    [select],
  );

  const flash = useCallback((id: string) => {
    setFlashing((current) => new Set(current).add(id));
  }, []);

  useDeskEvents({ meId, selectedId: openId, select, flash });

  const onCompleted = useCallback(
    (id: string) => {
      const done = interactions.find((i) => i.id === id);
      setSelectedId(null);
      if (done) toasts.show({ message: `Completed: ${contactName(done.contact)}.`, timeoutMs: 4000 });
      // Back to the log, where the next conversation is.
      document.querySelector<HTMLElement>('.log [role=tab][aria-selected=true]')?.focus();
    },
    [interactions, toasts],
  );

  return (
    <div className="desk">
      <ConnectionBanner />
      <Softphone interactions={interactions} onAnswered={select} />
      {interactions
        .filter((i) => !isOffer(i))
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
          onAccepted={accepted}
          actions={<NewInteractionMenu onStarted={accepted} />}
        />
        {selected ? (
          <>
            <InteractionArea
              key={selected.id}
              interaction={selected}
              handedOver={handedOver}
              focusReply={replyFocus === selected.id}
            />
            <aside className="side" aria-label="Interaction details">
              <LogChat
                key={selected.id}
                interaction={selected}
                readOnly={handedOver !== null || selected.state === 'PARKED'}
                onCompleted={onCompleted}
              />
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
                : interactions.some((i) => !isOffer(i))
                  ? 'Choose a conversation in the log to open it.'
                  : 'Accepted conversations open here.'}
            </p>
          </section>
        )}
      </div>
    </div>
  );
}
