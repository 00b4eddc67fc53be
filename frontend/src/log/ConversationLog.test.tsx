import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { interaction, message } from '../testing/fixtures';
import { PARKED_URGENT_SECONDS } from '../parking/ParkedCountdown';
import { mockClient } from '../testing/mockClient';
import { ConversationLog } from './ConversationLog';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
  vi.setSystemTime(Date.parse('2026-11-21T12:00:05Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

const active = interaction({
  id: 'i-1',
  acceptedAt: '2026-11-21T12:00:05Z',
  lastMessage: message({ id: 'm-1', interactionId: 'i-1', from: 'AGENT', text: 'On it' }),
});
const wrapping = interaction({
  id: 'i-2',
  state: 'WRAP',
  contact: { address: '+44 7700 900123', name: null },
  channel: 'SMS',
  wrapDeadline: '2026-11-21T12:01:05Z',
});

function renderLog(props: Partial<Parameters<typeof ConversationLog>[0]> = {}) {
  const { wrapper } = mockClient(() => null);
  const onSelect = vi.fn();
  render(
    <ConversationLog
      interactions={[active, wrapping]}
      loading={false}
      ready
      selectedId="i-1"
      flashing={new Set()}
      onSelect={onSelect}
      {...props}
    />,
    { wrapper },
  );
  return { onSelect };
}

describe('ConversationLog', () => {
  it('lists active and wrapping interactions in the Active tab, with channel, contact and last message', () => {
    renderLog();
    const tab = screen.getByRole('tab', { name: 'Active 2' });
    expect(tab.getAttribute('aria-selected')).toBe('true');
    const panel = screen.getByRole('tabpanel', { name: 'Active 2' });
    const [first, second] = within(panel).getAllByRole('button');
    expect(first!.getAttribute('aria-current')).toBe('true');
    expect(first!.textContent).toContain('Chat');
    expect(first!.textContent).toContain('You: On it');
    // No name: the address stands in.
    expect(second!.textContent).toContain('+44 7700 900123');
    expect(second!.textContent).toContain('SMS');
    expect(within(second!).getByText('Wrap')).toBeTruthy();
  });

  it('runs the time since acceptance and the wrap countdown live', () => {
    renderLog();
    const [activeCard, wrapCard] = screen.getAllByRole('button');
    expect(activeCard!.querySelector('.card-item__timer')!.textContent).toBe('active for 0:00');
    // The card's name says it once: who, and for how long.
    expect(screen.getByRole('button', { name: 'Jane Doe active for 0:00' })).toBe(activeCard);
    expect(wrapCard!.querySelector('.card-item__timer')!.textContent).toBe('wrap-up ends in 1:00');

    act(() => vi.advanceTimersByTime(65_000));

    expect(activeCard!.querySelector('.card-item__timer')!.textContent).toBe('active for 1:05');
    expect(wrapCard!.querySelector('.card-item__timer')!.textContent).toBe('wrap-up ends in 0:00');
    expect(wrapCard!.querySelector('.card-item__timer')!.getAttribute('data-urgent')).toBe('true');
  });

  it('W2: flashes the wrap badge of a card that needs attention', () => {
    renderLog({ flashing: new Set(['i-2']) });
    const [, wrapCard] = screen.getAllByRole('button');
    expect(within(wrapCard!).getByText('Wrap').hasAttribute('data-flash')).toBe(true);
  });

  it('opens a card on click, and Up/Down move between cards', async () => {
    vi.useRealTimers();
    const { onSelect } = renderLog();
    const user = userEvent.setup();
    const [first, second] = screen.getAllByRole('button');
    await user.click(second!);
    expect(onSelect).toHaveBeenCalledWith('i-2');
    await user.keyboard('{ArrowUp}');
    expect(document.activeElement).toBe(first);
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(second);
  });

  it('shows offers above the tab, and says what to do when the log is empty', () => {
    const { wrapper } = mockClient(() => null);
    const { rerender } = render(
      <ConversationLog interactions={[]} loading={false} ready={false} selectedId={null} flashing={new Set()} onSelect={() => {}} />,
      { wrapper },
    );
    expect(screen.getByText('No conversations yet.')).toBeTruthy();
    expect(screen.getByText('Set yourself Ready to receive offers.')).toBeTruthy();

    rerender(
      <ConversationLog
        interactions={[
          interaction({ id: 'i-3', state: 'OFFERED', offer: { id: 'o-3', expiresAt: null, autoAccepted: false } }),
        ]}
        loading={false}
        ready
        selectedId={null}
        flashing={new Set()}
        onSelect={() => {}}
      />,
    );
    expect(within(screen.getByRole('region', { name: 'Offers' })).getByRole('button', { name: 'Accept' })).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Active 0' })).toBeTruthy();
    expect(screen.getByText('No active conversations.')).toBeTruthy();
  });

  it('shows a transfer offer above the tabs as an offer, not as a conversation, though it is ACTIVE', () => {
    renderLog({
      interactions: [
        active,
        interaction({
          id: 'i-5',
          state: 'ACTIVE',
          contact: { address: 'v-5', name: 'Handed Over' },
          offer: { id: 'o-5', expiresAt: null, autoAccepted: false, transferredBy: { id: 'agent-bob', name: 'Bob Okafor' } },
        }),
      ],
    });
    const offer = within(screen.getByRole('region', { name: 'Offers' })).getByRole('article', { name: 'Handed Over' });
    expect(offer.textContent).toContain('Transfer from Bob Okafor');
    expect(screen.getByRole('tab', { name: 'Active 1' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Handed Over/ })).toBeNull();
  });
});

describe('ConversationLog: Active and Parked tabs (K1, K3)', () => {
  const parked = (id: string, name: string, parkedUntil: string) =>
    interaction({ id, state: 'PARKED', contact: { address: id, name }, parkedAt: '2026-11-21T12:00:00Z', parkedUntil });
  const soon = parked('p-1', 'Soon Over', '2026-11-21T12:10:07Z');
  const later = parked('p-2', 'Much Later', '2026-11-21T13:00:05Z');

  it('Active holds active and wrapping interactions, Parked the parked ones; arrow keys, Home and End move between tabs', async () => {
    vi.useRealTimers();
    renderLog({ interactions: [active, soon, wrapping, later] });
    const user = userEvent.setup();
    const activeTab = screen.getByRole('tab', { name: 'Active 2' });
    const parkedTab = screen.getByRole('tab', { name: 'Parked 2' });
    expect(activeTab.getAttribute('aria-selected')).toBe('true');
    expect(parkedTab.getAttribute('aria-selected')).toBe('false');
    // One tab stop for the tab list.
    expect(activeTab.tabIndex).toBe(0);
    expect(parkedTab.tabIndex).toBe(-1);
    const panel = () => screen.getByRole('tabpanel');
    expect(within(panel()).getAllByRole('button').map((b) => b.dataset.interactionId)).toEqual(['i-1', 'i-2']);
    expect(panel().getAttribute('aria-labelledby')).toBe(activeTab.id);
    expect(activeTab.getAttribute('aria-controls')).toBe(panel().id);

    activeTab.focus();
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(parkedTab);
    expect(parkedTab.getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel', { name: 'Parked 2' })).toBeTruthy();
    expect(within(panel()).getAllByRole('button').map((b) => b.dataset.interactionId)).toEqual(['p-1', 'p-2']);
    expect(within(panel()).getAllByText('Parked')).toHaveLength(2);

    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(activeTab);
    await user.keyboard('{End}');
    expect(document.activeElement).toBe(parkedTab);
    await user.keyboard('{Home}');
    expect(document.activeElement).toBe(activeTab);
    await user.keyboard('{ArrowLeft}');
    expect(document.activeElement).toBe(parkedTab);

    await user.click(activeTab);
    expect(within(panel()).getAllByRole('button')).toHaveLength(2);
  });

  it('K3: a parked card counts down to its end and turns red, with a glyph and words, at 10 minutes', () => {
    renderLog({ interactions: [soon, later], selectedId: null });
    act(() => screen.getByRole('tab', { name: 'Parked 2' }).click());
    const [soonCard, laterCard] = within(screen.getByRole('tabpanel')).getAllByRole('button');
    const countdown = (card: HTMLElement) => card.querySelector<HTMLElement>('.parked-countdown')!;

    // 10:02 and 1:00:00 left.
    expect(countdown(soonCard!).textContent).toBe('ends in 10:02');
    expect(countdown(laterCard!).textContent).toBe('ends in 1:00:00');
    expect(countdown(soonCard!).dataset.urgent).toBe('false');
    expect(countdown(soonCard!).classList.contains('parked-countdown--urgent')).toBe(false);
    expect(countdown(soonCard!).querySelector('svg')).toBeNull();

    act(() => vi.advanceTimersByTime(1000));
    expect(countdown(soonCard!).textContent).toBe('ends in 10:01');
    expect(countdown(soonCard!).dataset.urgent).toBe('false');

    // Exactly 10 minutes left: urgent.
    act(() => vi.advanceTimersByTime(1000));
    expect(countdown(soonCard!).textContent).toBe('ends in 10:00 (ending soon)');
    expect(countdown(soonCard!).dataset.urgent).toBe('true');
    expect(countdown(soonCard!).classList.contains('parked-countdown--urgent')).toBe(true);
    expect(countdown(soonCard!).querySelector('svg')?.getAttribute('aria-hidden')).toBe('true');
    // The card's name, which screen readers read, says it too.
    expect(soonCard!.textContent).toContain('(ending soon)');
    expect(countdown(laterCard!).dataset.urgent).toBe('false');
    expect(PARKED_URGENT_SECONDS).toBe(600);
  });

  it('says when nothing is parked, and shows the tab of a card opened from elsewhere', () => {
    const { wrapper } = mockClient(() => null);
    const props = { loading: false, ready: true, flashing: new Set<string>(), onSelect: () => {} };
    const { rerender } = render(<ConversationLog {...props} interactions={[active]} selectedId={null} />, { wrapper });
    act(() => screen.getByRole('tab', { name: 'Parked 0' }).click());
    expect(screen.getByText('No parked conversations.')).toBeTruthy();

    // A toast's Open… for a chat that is back in Active.
    rerender(<ConversationLog {...props} interactions={[active, later]} selectedId="i-1" />);
    expect(screen.getByRole('tab', { name: 'Active 1' }).getAttribute('aria-selected')).toBe('true');
    rerender(<ConversationLog {...props} interactions={[active, later]} selectedId="p-2" />);
    expect(screen.getByRole('tab', { name: 'Parked 1' }).getAttribute('aria-selected')).toBe('true');
  });
});
