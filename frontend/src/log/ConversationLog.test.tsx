import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { interaction, message } from '../testing/fixtures';
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
});
