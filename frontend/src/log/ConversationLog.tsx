import { useId, type KeyboardEvent } from 'react';
import type { LogCardFragment } from '../gql/graphql';
import { OfferCard } from '../offers/OfferCard';
import { ConversationCard } from './ConversationCard';

/**
 * The conversation log: offers on top, then the Active tab with every interaction being handled
 * or wrapped up (a wrapping one keeps its card, with a Wrap badge). Up and Down move between
 * cards.
 */
export function ConversationLog({
  interactions,
  loading,
  ready,
  selectedId,
  flashing,
  onSelect,
}: {
  interactions: readonly LogCardFragment[];
  loading: boolean;
  ready: boolean;
  selectedId: string | null;
  flashing: ReadonlySet<string>;
  onSelect: (id: string) => void;
}) {
  const tabId = useId();
  const panelId = useId();
  const offers = interactions.filter((i) => i.state === 'OFFERED');
  const active = interactions.filter((i) => i.state !== 'OFFERED');

  return (
    <nav className="log" aria-label="Conversation log">
      {offers.length > 0 && (
        <section className="log__offers" aria-label="Offers">
          {offers.map((interaction) => (
            <OfferCard key={interaction.id} interaction={interaction} onAccepted={onSelect} />
          ))}
        </section>
      )}
      <div role="tablist" aria-label="Conversations" className="log__tabs">
        <button
          type="button"
          role="tab"
          id={tabId}
          aria-selected="true"
          aria-controls={panelId}
          className="log__tab"
        >
          Active <span className="log__count">{active.length}</span>
        </button>
      </div>
      <div role="tabpanel" id={panelId} aria-labelledby={tabId} className="log__panel">
        {active.length > 0 ? (
          <ul className="log__list" onKeyDown={moveBetweenCards}>
            {active.map((interaction) => (
              <li key={interaction.id}>
                <ConversationCard
                  interaction={interaction}
                  selected={interaction.id === selectedId}
                  flashing={flashing.has(interaction.id)}
                  onSelect={onSelect}
                />
              </li>
            ))}
          </ul>
        ) : loading ? (
          <p className="muted log__empty">Loading…</p>
        ) : (
          <div className="log__empty">
            <p>{offers.length > 0 ? 'No active conversations.' : 'No conversations yet.'}</p>
            <p className="muted">
              {ready
                ? 'You are Ready: new offers will appear here.'
                : 'Set yourself Ready to receive offers.'}
            </p>
          </div>
        )}
      </div>
    </nav>
  );
}

function moveBetweenCards(event: KeyboardEvent<HTMLUListElement>) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const cards = Array.from(event.currentTarget.querySelectorAll<HTMLButtonElement>('.conversation-card'));
  const index = cards.indexOf(document.activeElement as HTMLButtonElement);
  if (index < 0) return;
  const next = cards[index + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}
