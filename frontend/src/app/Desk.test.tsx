import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionProvider } from '../connection/ConnectionContext';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { interaction, message, salesPlan, transcriptPage } from '../testing/fixtures';
import { ToastProvider } from '../toast/Toasts';
import { Desk } from './Desk';

let backend: FakeBackend | undefined;

afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

function renderWith(b: FakeBackend, ui: ReactNode) {
  render(
    <Provider value={b.client}>
      <ConnectionProvider connection={b.connection}>
        <ToastProvider>{ui}</ToastProvider>
      </ConnectionProvider>
    </Provider>,
  );
}

const chat = interaction({
  id: 'i-1',
  lastMessage: message({ id: 'm-1', interactionId: 'i-1', text: 'Hello, anyone there?' }),
});

describe('Desk', () => {
  it('shows offers from the offers subscription with Accept and Reject, and removes rescinded ones (P3)', async () => {
    backend = fakeBackend({ MyInteractions: () => ({ myInteractions: [] }) });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await screen.findByText('No conversations yet.');
    await vi.waitFor(() => expect(backend!.subscriptions('Offers')).toHaveLength(1));

    const offered = interaction({
      id: 'i-2',
      state: 'OFFERED',
      acceptedAt: null,
      contact: { address: 'visitor-2', name: 'Sam Offer' },
      offer: { id: 'o-2', expiresAt: new Date(Date.now() + 30_000).toISOString(), autoAccepted: false },
    });
    const event = (kind: string) => ({
      offers: {
        __typename: 'OfferEvent',
        kind,
        offer: { __typename: 'Offer', ...offered.offer, interaction: offered },
      },
    });
    act(() => backend!.emit('Offers', event('OFFERED')));

    const offers = await screen.findByRole('region', { name: 'Offers' });
    const card = within(offers).getByRole('article', { name: 'Sam Offer' });
    expect(within(card).getByRole('button', { name: 'Accept' })).toBeTruthy();
    expect(within(card).getByRole('button', { name: 'Reject' })).toBeTruthy();
    expect(within(card).getByRole('timer').textContent).toMatch(/^0:(29|30)$/);

    act(() => backend!.emit('Offers', event('RESCINDED')));
    await vi.waitFor(() => expect(screen.queryByRole('region', { name: 'Offers' })).toBeNull());
    expect(await screen.findByText('The offer from Sam Offer was withdrawn.')).toBeTruthy();
  });

  it('P4: an auto-accepted offer arrives ACTIVE: it opens at once, and nothing offers to reject it', async () => {
    const auto = interaction({
      id: 'i-7',
      state: 'ACTIVE',
      contact: { address: 'visitor-7', name: 'Auto Accepted' },
    });
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [] }),
      InteractionDetail: () => ({ interaction: auto }),
      Transcript: ({ id }) => transcriptPage(id as string, []),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await screen.findByText('No conversations yet.');
    await vi.waitFor(() => expect(backend!.subscriptions('Offers')).toHaveLength(1));

    act(() =>
      backend!.emit('Offers', {
        offers: {
          __typename: 'OfferEvent',
          kind: 'OFFERED',
          offer: { __typename: 'Offer', id: 'o-7', expiresAt: null, autoAccepted: true, transferredBy: null, interaction: auto },
        },
      }),
    );

    expect(await screen.findByRole('heading', { level: 2, name: 'Auto Accepted' })).toBeTruthy();
    expect(screen.getByText('New chat from Auto Accepted, accepted automatically.')).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Offers' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reject' })).toBeNull();
    expect(screen.getByRole('tab', { name: 'Active 1' })).toBeTruthy();
  });

  it('W2: a chat the contact ends while not in focus flashes its wrap badge and its toast offers Open…', async () => {
    const other = interaction({ id: 'i-9', contact: { address: 'v-9', name: 'Other Person' } });
    const ended = {
      ...chat,
      state: 'WRAP' as const,
      endedBy: 'CONTACT' as const,
      endedAt: '2026-11-21T12:05:05Z',
      durationSeconds: 300,
    };
    let server = [chat, other];
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: server }),
      InteractionDetail: ({ id }) => ({ interaction: server.find((i) => i.id === id) }),
      Transcript: ({ id }) => transcriptPage(id as string, []),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Other Person/ }));
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionUpdates')).toHaveLength(1));

    server = [ended, other];
    act(() =>
      backend!.emit('InteractionUpdates', { interactionUpdates: { ...ended, completedAt: null } }),
    );

    const toast = await screen.findByText('Chat ended by the webchat widget: Jane Doe');
    const card = screen.getByRole('button', { name: /Jane Doe/ });
    expect(within(card).getByText('Wrap').hasAttribute('data-flash')).toBe(true);

    await user.click(within(toast.parentElement!).getByRole('button', { name: 'Open…' }));
    expect(screen.getByRole('heading', { level: 2, name: 'Jane Doe' })).toBeTruthy();
    expect(within(card).getByText('Wrap').hasAttribute('data-flash')).toBe(false);
    expect(screen.getByText(/Chat ended by the contact · Total duration 5 min/)).toBeTruthy();
  });

  it('W2: the toast has no Open… when the ended chat is the one in focus', async () => {
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [chat] }),
      InteractionDetail: () => ({ interaction: chat }),
      Transcript: ({ id }) => transcriptPage(id as string, []),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionUpdates')).toHaveLength(1));

    act(() =>
      backend!.emit('InteractionUpdates', {
        interactionUpdates: { ...chat, state: 'WRAP', endedBy: 'CONTACT', completedAt: null },
      }),
    );

    const toast = await screen.findByText('Chat ended by the webchat widget');
    expect(within(toast.parentElement!).queryByRole('button', { name: 'Open…' })).toBeNull();
    // The log chat area takes focus in WRAP.
    await vi.waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Wrap up' })),
    );
  });

  it('after the websocket drops: a banner, then on reconnect the log and the open transcript are re-queried, so a message sent meanwhile appears', async () => {
    const hello = message({ id: 'm-1', interactionId: 'i-1', text: 'Hello, anyone there?' });
    const missed = message({ id: 'm-2', interactionId: 'i-1', text: 'Sent while you were offline' });
    let transcript = [hello];
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [chat] }),
      InteractionDetail: () => ({ interaction: chat }),
      Transcript: ({ id }) => transcriptPage(id as string, transcript),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await screen.findByText('Hello, anyone there?', { selector: '.msg__text' });
    await vi.waitFor(() => expect(backend!.connection.status()).toBe('connected'));
    const before = backend.names().length;

    act(() => backend!.socket().close(1006, 'network gone'));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Connection lost\. Reconnecting/);

    // The contact writes while the socket is down: no event reaches the desk.
    transcript = [hello, missed];

    await vi.waitFor(() => expect(screen.queryByText(/Connection lost/)).toBeNull());
    expect(
      await screen.findByText('Sent while you were offline', { selector: '.msg__text' }),
    ).toBeTruthy();
    const after = backend.names().slice(before);
    expect(after).toContain('MyInteractions');
    expect(after).toContain('Transcript');
    // graphql-ws resubscribed the feeds on the new socket.
    expect(backend.subscriptions('Offers')).toHaveLength(1);
    expect(backend.subscriptions('InteractionMessages')).toHaveLength(1);
  });

  it('a new message event updates the card and brings the message into the open transcript', async () => {
    const hello = message({ id: 'm-1', interactionId: 'i-1', text: 'Hello, anyone there?' });
    const next = message({ id: 'm-2', interactionId: 'i-1', text: 'Are you still there?' });
    let transcript = [hello];
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [chat] }),
      InteractionDetail: () => ({ interaction: chat }),
      Transcript: ({ id }) => transcriptPage(id as string, transcript),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await screen.findByText('Hello, anyone there?', { selector: '.msg__text' });
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionMessages')).toHaveLength(1));

    transcript = [hello, next];
    act(() => backend!.emit('InteractionMessages', { messages: next }));

    expect(await screen.findByText('Are you still there?', { selector: '.msg__text' })).toBeTruthy();
    expect(
      within(screen.getByRole('button', { name: /Jane Doe/ })).getByText('Are you still there?'),
    ).toBeTruthy();
  });

  it('W5: Complete removes the card', async () => {
    const wrapping = interaction({
      id: 'i-1',
      state: 'WRAP',
      plan: salesPlan,
      endedAt: '2026-11-21T12:05:00Z',
      endedBy: 'AGENT',
      durationSeconds: 295,
      wrapDeadline: new Date(Date.now() + 60_000).toISOString(),
    });
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [wrapping] }),
      InteractionDetail: () => ({ interaction: wrapping }),
      Transcript: ({ id }) => transcriptPage(id as string, []),
      CompleteInteraction: () => ({
        completeInteraction: {
          __typename: 'InteractionPayload',
          interaction: {
            __typename: 'Interaction',
            id: 'i-1',
            state: 'COMPLETED',
            completedAt: '2026-11-21T12:05:30Z',
            notes: '',
            dispositions: [],
          },
          userErrors: [],
        },
      }),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await user.click(screen.getByRole('button', { name: 'Complete' }));

    await vi.waitFor(() => expect(screen.queryByRole('button', { name: /Jane Doe/ })).toBeNull());
    expect(screen.getByText('No conversations yet.')).toBeTruthy();
    expect(await screen.findByText('Completed: Jane Doe.')).toBeTruthy();
  });
});
