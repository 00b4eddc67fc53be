import { useState, type KeyboardEvent, type ReactNode } from 'react';
import { Tab as AriaTab, TabList, TabPanel, Tabs } from 'react-aria-components';
import type { LogCardFragment } from '../gql/graphql';
import { OfferCard } from '../offers/OfferCard';
import { ConversationCard } from './ConversationCard';
import { isOffer } from './logInteraction';

type Tab = 'active' | 'parked';
const tabs: { id: Tab; label: string }[] = [
  { id: 'active', label: 'Active' },
  { id: 'parked', label: 'Parked' },
];

const tabOf = (interaction: LogCardFragment): Tab => (interaction.state === 'PARKED' ? 'parked' : 'active');

/**
 * The conversation log: offers on top (routing's and transfers), then two tabs: Active, with
 * every interaction being handled or wrapped up (a wrapping one keeps its card, with a Wrap
 * badge), and Parked, with each parked interaction's countdown to its end (K1, K3). The tabs
 * are react-aria-components' (the ARIA pattern: arrow keys, Home, End); Up and Down move between
 * cards. Opening a
 * card from elsewhere (a toast's Open…) shows the tab it is in.
 */
export function ConversationLog({
  interactions,
  loading,
  ready,
  selectedId,
  flashing,
  onSelect,
  onAccepted = onSelect,
  actions,
}: {
  interactions: readonly LogCardFragment[];
  loading: boolean;
  ready: boolean;
  selectedId: string | null;
  flashing: ReadonlySet<string>;
  onSelect: (id: string) => void;
  /** An offer was accepted: its conversation opens (by default as if its card was chosen). */
  onAccepted?: (id: string) => void;
  /** Shown above everything else, e.g. the New menu for outbound starts. */
  actions?: ReactNode;
}) {
  const [tab, setTab] = useState<Tab>('active');
  const [followed, setFollowed] = useState(selectedId);
  const offers = interactions.filter(isOffer);
  const conversations = interactions.filter((i) => !isOffer(i));
  const byTab: Record<Tab, LogCardFragment[]> = {
    active: linkedTogether(conversations.filter((i) => tabOf(i) === 'active')),
    parked: conversations.filter((i) => tabOf(i) === 'parked'),
  };
  const shown = byTab[tab];

  // Adjusting state while rendering when the selection changes, as React recommends over effects.
  if (selectedId !== followed) {
    setFollowed(selectedId);
    const selected = conversations.find((i) => i.id === selectedId);
    if (selected) setTab(tabOf(selected));
  }



  return (
    <nav className="log" aria-label="Conversation log">
      {actions && <div className="log__actions">{actions}</div>}
      {offers.length > 0 && (
        <section className="log__offers" aria-label="Offers">
          {offers.map((interaction) => (
            <OfferCard key={interaction.id} interaction={interaction} onAccepted={onAccepted} />
          ))}
        </section>
      )}
      <Tabs selectedKey={tab} onSelectionChange={(key) => setTab(key as Tab)} className="log__tabset">
        <TabList aria-label="Conversations" className="log__tabs">
          {tabs.map((t) => (
            <AriaTab key={t.id} id={t.id} className="log__tab">
              {t.label} <span className="log__count">{byTab[t.id].length}</span>
            </AriaTab>
          ))}
        </TabList>
        <TabPanel id={tab} className="log__panel">
        {shown.length > 0 ? (
          <ul className="log__list" onKeyDown={moveBetweenCards}>
            {shown.map((interaction) => (
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
        ) : tab === 'parked' ? (
          <div className="log__empty">
            <p>No parked conversations.</p>
            <p className="muted">Park a chat that waits for the contact: it frees your capacity until they reply.</p>
          </div>
        ) : (
          <div className="log__empty">
            <p>
              {offers.length > 0 || byTab.parked.length > 0 ? 'No active conversations.' : 'No conversations yet.'}
            </p>
            <p className="muted">
              {ready
                ? 'You are Ready: new offers will appear here.'
                : 'Set yourself Ready to receive offers.'}
            </p>
          </div>
        )}
        </TabPanel>
      </Tabs>
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

/**
 * The log's order with linked interactions together (X1): a consult call right after the chat
 * or email it came from, wherever each would stand alone.
 */
export function linkedTogether(list: LogCardFragment[]): LogCardFragment[] {
  const out: LogCardFragment[] = [];
  const placed = new Set<string>();
  for (const item of list) {
    if (placed.has(item.id)) continue;
    out.push(item);
    placed.add(item.id);
    const partner = list.find((other) => other.id === item.linkedInteraction?.id);
    if (partner && !placed.has(partner.id)) {
      out.push(partner);
      placed.add(partner.id);
    }
  }
  return out;
}
