import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionProvider } from '../connection/ConnectionContext';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { BOB, interaction, message, ME, salesPlan, supportPlan, transcriptPage } from '../testing/fixtures';
import { ToastProvider } from '../toast/Toasts';
import { Desk } from './Desk';

/** The desk as alice, against the real client and cache with a fake server (see Desk.test). */
let backend: FakeBackend | undefined;

afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

function renderDesk(b: FakeBackend) {
  render(
    <Provider value={b.client}>
      <ConnectionProvider connection={b.connection}>
        <ToastProvider>
          <Desk ready meId={ME.id} />
        </ToastProvider>
      </ConnectionProvider>
    </Provider>,
  );
}

/** A server whose log and interactions are `server()`, looked up by id. */
function serving(list: () => ReturnType<typeof interaction>[], more: Parameters<typeof fakeBackend>[0] = {}) {
  return fakeBackend({
    MyInteractions: () => ({ myInteractions: list() }),
    InteractionDetail: ({ id }) => ({ interaction: list().find((i) => i.id === id) ?? null }),
    Transcript: ({ id }) => transcriptPage(id as string, [message({ id: `m-${id}`, interactionId: id as string, text: 'Hello there' })]),
    ...more,
  });
}

const toastWith = (text: string) => screen.findByText(text, { selector: '.toast__message' });
const card = (name: string) => screen.queryByRole('button', { name: new RegExp(name) });

describe('Desk: parking (K1, K4, K6)', () => {
  const parked = (id: string, name: string, plan: typeof supportPlan | typeof salesPlan = supportPlan) =>
    interaction({
      id,
      state: 'PARKED',
      plan,
      contact: { address: id, name },
      parkedAt: new Date(Date.now() - 60_000).toISOString(),
      parkedUntil: new Date(Date.now() + 3_540_000).toISOString(),
      parkedBy: ME,
    });

  it('a reply to a parked chat: back in Active, moved to the post-parking queue, or ended without one — each with its toast', async () => {
    const back = parked('p-1', 'Back Again');
    const queued = parked('p-2', 'Gone Queued');
    const ended = parked('p-3', 'Sales Ended', salesPlan);
    backend = serving(() => [back, queued, ended]);
    renderDesk(backend);
    await screen.findByRole('tab', { name: 'Parked 3' });
    await vi.waitFor(() => expect(backend!.subscriptions('UnparkNotifications')).toHaveLength(1));
    const reply = (id: string) => message({ id: `r-${id}`, interactionId: id, text: 'I am back', sentAt: new Date().toISOString() });
    const wake = (i: ReturnType<typeof interaction>, change: Record<string, unknown>) =>
      act(() =>
        backend!.emit('UnparkNotifications', {
          unparkNotifications: {
            __typename: 'UnparkNotification',
            interaction: { ...i, parkedUntil: null, ...change },
            message: reply(i.id),
          },
        }),
      );

    wake(back, { state: 'ACTIVE' });
    expect(await toastWith('Back Again replied — back in Active')).toBeTruthy();
    await screen.findByRole('tab', { name: 'Active 1' });

    // Alice had no room: the Support queue (the post-parking plan) took it and leaves her log.
    wake(queued, { state: 'QUEUED', agent: null });
    expect(await toastWith('Gone Queued replied — moved to the Support queue')).toBeTruthy();

    wake(ended, { state: 'WRAP', endedBy: 'SYSTEM', endedAt: new Date().toISOString() });
    expect(await toastWith('Sales Ended replied — chat ended: no post-parking plan')).toBeTruthy();

    await screen.findByRole('tab', { name: 'Parked 0' });
    const active = screen.getByRole('tabpanel', { name: 'Active 2' });
    expect(within(active).getByRole('button', { name: /Back Again/ }).textContent).toContain('I am back');
    const wrapCard = within(active).getByRole('button', { name: /Sales Ended/ });
    expect(within(wrapCard).getByText('Wrap').hasAttribute('data-flash')).toBe(true);
    expect(card('Gone Queued')).toBeNull();

    // Open… on the toast of the chat that is back opens it.
    const toast = (await toastWith('Back Again replied — back in Active')).parentElement!;
    await userEvent.click(within(toast).getByRole('button', { name: 'Open…' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Back Again' })).toBeTruthy();
  });

  it('K5: no reply in time: the system ends it, a toast says so and the card, now in wrap-up, flashes in Active', async () => {
    const quiet = parked('p-4', 'Gone Quiet');
    backend = serving(() => [quiet]);
    renderDesk(backend);
    await screen.findByRole('tab', { name: 'Parked 1' });
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionUpdates')).toHaveLength(1));
    const endedAt = new Date(Date.parse(quiet.parkedAt!) + 3_600_000).toISOString();
    act(() =>
      backend!.emit('InteractionUpdates', {
        interactionUpdates: { ...quiet, state: 'WRAP', endedBy: 'SYSTEM', endedAt, parkedUntil: null, completedAt: null },
      }),
    );
    expect(await toastWith('No reply from Gone Quiet while parked: the chat ended.')).toBeTruthy();
    const active = await screen.findByRole('tabpanel', { name: 'Active 1' });
    expect(within(within(active).getByRole('button', { name: /Gone Quiet/ })).getByText('Wrap').hasAttribute('data-flash')).toBe(true);
  });

  it('K1: Park sends parkInteraction; the card moves to the Parked tab with its countdown, and the reply box closes', async () => {
    let chat = interaction({ id: 'i-1', plan: supportPlan });
    backend = serving(() => [chat], {
      ParkInteraction: () => {
        chat = {
          ...chat,
          state: 'PARKED',
          parkedAt: new Date().toISOString(),
          parkedUntil: new Date(Date.now() + 3_600_000).toISOString(),
          parkedBy: ME,
        };
        return { parkInteraction: { __typename: 'InteractionPayload', interaction: chat, userErrors: [] } };
      },
    });
    renderDesk(backend);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await user.click(await screen.findByRole('button', { name: 'Park' }));

    expect(backend.calls.find((c) => c.operationName === 'ParkInteraction')!.variables).toEqual({ input: { interactionId: 'i-1' } });
    expect(await toastWith('Parked: Jane Doe waits in the Parked tab until they reply.')).toBeTruthy();
    await screen.findByRole('tab', { name: 'Parked 1' });
    expect(screen.getByRole('tab', { name: 'Active 0' })).toBeTruthy();
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('disabled', true);
    expect(screen.queryByRole('button', { name: 'Park' })).toBeNull();
    expect(screen.getByRole('button', { name: 'End chat' })).toBeTruthy();
    // Notes and codes wait too: the server takes them only while ACTIVE or in WRAP.
    expect(screen.getByRole('textbox', { name: 'Notes' })).toHaveProperty('disabled', true);

    await user.click(screen.getByRole('tab', { name: 'Parked 1' }));
    const log = screen.getByRole('navigation', { name: 'Conversation log' });
    expect(within(log).getByRole('button', { name: /Jane Doe/ }).textContent).toMatch(/ends in (1:00:00|59:5\d)/);
  });

  it('K1: a refusal to park shows beside the button', async () => {
    backend = serving(() => [interaction({ id: 'i-1' })], {
      ParkInteraction: () => ({
        parkInteraction: {
          __typename: 'InteractionPayload',
          interaction: null,
          userErrors: [{ __typename: 'UserError', code: 'WRONG_STATE', message: 'not possible while the interaction is WRAP' }],
        },
      }),
    });
    renderDesk(backend);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await userEvent.click(await screen.findByRole('button', { name: 'Park' }));
    expect((await screen.findByRole('alert')).textContent).toBe('not possible while the interaction is WRAP');
  });
});

describe('Desk: auto-park (K2)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the header counts down to auto-park once the contact has been silent a minute; their message starts it over', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(Date.parse('2026-11-21T12:10:00Z'));
    const chat = interaction({
      id: 'i-1',
      lastContactAt: '2026-11-21T12:09:30Z',
      autoParkAt: '2026-11-21T12:19:30Z',
    });
    backend = serving(() => [chat]);
    renderDesk(backend);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    const header = (await screen.findByRole('heading', { level: 2, name: 'Jane Doe' })).closest('header')!;
    // Silent for 30 s: nothing to say yet.
    expect(within(header).queryByText(/auto-parks in/)).toBeNull();

    act(() => vi.advanceTimersByTime(30_000));
    expect(within(header).getByText('auto-parks in 9:00')).toBeTruthy();
    act(() => vi.advanceTimersByTime(255_000));
    expect(within(header).getByText('auto-parks in 4:45')).toBeTruthy();

    // The contact writes: the server restarts its countdown without an update; the desk follows.
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionMessages')).toHaveLength(1));
    act(() =>
      backend!.emit('InteractionMessages', {
        messages: message({ id: 'm-2', interactionId: 'i-1', text: 'Still there?', sentAt: new Date().toISOString() }),
      }),
    );
    await vi.waitFor(() => expect(within(header).queryByText(/auto-parks in/)).toBeNull());
    act(() => vi.advanceTimersByTime(60_000));
    expect(within(header).getByText('auto-parks in 9:00')).toBeTruthy();

    // The agent's own messages do not count: only the contact's silence does.
    act(() =>
      backend!.emit('InteractionMessages', {
        messages: message({ id: 'm-3', interactionId: 'i-1', from: 'AGENT', agent: ME, text: 'Yes?', sentAt: new Date().toISOString() }),
      }),
    );
    act(() => vi.advanceTimersByTime(1000));
    expect(within(header).getByText('auto-parks in 8:59')).toBeTruthy();
  });

  it('a chat the system parks gets a toast with Open…; one the agent parks gets only the Park button’s', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(now + ms).toISOString();
    // The server says who parked each: the agent (parkedBy), or no one when the system did.
    // The times would not tell: the contact last wrote 20 minutes ago (it then waited in a
    // queue), so parking it now looks like the system's.
    let mine = interaction({ id: 'i-1', lastContactAt: iso(-1_200_000), autoParkAt: iso(540_000) });
    const quiet = interaction({
      id: 'i-2',
      contact: { address: 'v-2', name: 'Quiet Quinn' },
      lastContactAt: iso(-600_500),
      autoParkAt: iso(-500),
    });
    const parked = (i: ReturnType<typeof interaction>, by: typeof ME | null) => ({
      ...i,
      state: 'PARKED' as const,
      autoParkAt: null,
      parkedAt: iso(0),
      parkedUntil: iso(3_600_000),
      parkedBy: by,
    });
    backend = serving(() => [mine, quiet], {
      ParkInteraction: () => {
        mine = parked(mine, ME);
        return { parkInteraction: { __typename: 'InteractionPayload', interaction: mine, userErrors: [] } };
      },
    });
    renderDesk(backend);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionUpdates')).toHaveLength(1));

    await userEvent.click(await screen.findByRole('button', { name: 'Park' }));
    expect(await toastWith('Parked: Jane Doe waits in the Parked tab until they reply.')).toBeTruthy();
    act(() => backend!.emit('InteractionUpdates', { interactionUpdates: { ...mine, completedAt: null } }));
    act(() => backend!.emit('InteractionUpdates', { interactionUpdates: { ...parked(quiet, null), completedAt: null } }));

    const toast = (await toastWith('Quiet Quinn was parked after 10 min without a reply')).parentElement!;
    expect(screen.queryByText(/Jane Doe was parked after/)).toBeNull();
    await screen.findByRole('tab', { name: 'Parked 2' });
    // The same update again (e.g. after a reconnection) says nothing more.
    await act(async () => backend!.emit('InteractionUpdates', { interactionUpdates: { ...parked(quiet, null), completedAt: null } }));
    expect(screen.queryAllByText('Quiet Quinn was parked after 10 min without a reply')).toHaveLength(1);
    await userEvent.click(within(toast).getByRole('button', { name: 'Open…' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Quiet Quinn' })).toBeTruthy();
  });
});

describe('Desk: transfers (T1, T5, T6)', () => {
  const chat = interaction({ id: 'i-1', contact: { address: 'v-1', name: 'Jane Doe' } });
  const pending = () => ({
    __typename: 'PendingTransfer',
    offerId: 'i-1.2',
    expiresAt: new Date(Date.now() + 30_000).toISOString(),
    to: BOB,
  });

  async function openChat(list: () => ReturnType<typeof interaction>[]) {
    backend = serving(list);
    renderDesk(backend);
    await userEvent.click(await screen.findByRole('button', { name: /Jane Doe/ }));
    await screen.findByRole('heading', { level: 2, name: 'Jane Doe' });
    await vi.waitFor(() => expect(backend!.subscriptions('TransferResults')).toHaveLength(1));
  }

  const result = (outcome: string, target: typeof BOB | null, change: Record<string, unknown> = {}) =>
    act(() =>
      backend!.emit('TransferResults', {
        transferResults: { __typename: 'TransferResult', outcome, target, interaction: { ...chat, ...change } },
      }),
    );

  it('while a transfer waits: "Transferring to Bob Okafor…" with its countdown; Transfer does nothing and Park is gone', async () => {
    await openChat(() => [{ ...chat, pendingTransfer: pending() } as never]);
    const line = screen.getByText(/Transferring to Bob Okafor…/);
    expect(within(line).getByRole('timer').textContent).toMatch(/^0:(2\d|30)$/);
    const transfer = screen.getByRole('button', { name: 'Transfer' });
    expect(transfer.getAttribute('aria-disabled')).toBe('true');
    expect(document.getElementById(transfer.getAttribute('aria-describedby')!)).toBe(line);
    await userEvent.click(transfer);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Park' })).toBeNull();
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('disabled', false);
  });

  it('T5: accepted: a toast, the card leaves the log, the chat stays open read-only and the reply box closes', async () => {
    await openChat(() => [chat]);
    result('ACCEPTED', BOB, { agent: BOB });

    expect(await toastWith('Bob Okafor accepted the transfer of Jane Doe.')).toBeTruthy();
    await vi.waitFor(() => expect(card('Jane Doe')).toBeNull());
    expect(screen.getByRole('heading', { level: 2, name: 'Jane Doe' })).toBeTruthy();
    expect(screen.getByText('Transferred to Bob Okafor · You can no longer send messages in this chat.')).toBeTruthy();
    const box = screen.getByRole('textbox', { name: 'Reply' });
    expect(box).toHaveProperty('disabled', true);
    expect(document.getElementById(box.getAttribute('aria-describedby')!)!.textContent).toBe(
      'Transferred to Bob Okafor: replies are closed.',
    );
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true);
    expect(screen.queryByRole('button', { name: 'End chat' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Transfer' })).toBeNull();
    expect(screen.getByRole('textbox', { name: 'Notes' })).toHaveProperty('disabled', true);
    // What was loaded stays readable.
    expect(screen.getByText('Hello there', { selector: '.msg__text' })).toBeTruthy();

    // Nothing of it is left in the log.
    expect(screen.getByText('No conversations yet.')).toBeTruthy();
  });

  it('T5: the update naming the new holder alone (before the result) already closes the reply box', async () => {
    await openChat(() => [chat]);
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionUpdates')).toHaveLength(1));
    act(() => backend!.emit('InteractionUpdates', { interactionUpdates: { ...chat, agent: BOB, completedAt: null } }));
    await screen.findByText('Transferred to Bob Okafor · You can no longer send messages in this chat.');
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('disabled', true);
  });

  it('T5: to a plan: the toast names the queue, and the open chat says where it went', async () => {
    await openChat(() => [chat]);
    result('ACCEPTED', null, { state: 'QUEUED', agent: null, plan: salesPlan });
    expect(await toastWith('Jane Doe was transferred to the Sales queue.')).toBeTruthy();
    await screen.findByText('Moved to the Sales queue · You can no longer send messages in this chat.');
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('disabled', true);
  });

  it('T6: rejected: a toast, and the chat stays active with alice', async () => {
    await openChat(() => [{ ...chat, pendingTransfer: pending() } as never]);
    await screen.findByText(/Transferring to Bob Okafor…/);
    result('REJECTED', BOB, { pendingTransfer: null });
    expect(await toastWith('Bob Okafor did not accept the transfer of Jane Doe: it stays with you.')).toBeTruthy();
    await vi.waitFor(() => expect(screen.queryByText(/Transferring to Bob Okafor…/)).toBeNull());
    expect(card('Jane Doe')).toBeTruthy();
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('disabled', false);
    expect(screen.getByRole('button', { name: 'Transfer' }).getAttribute('aria-disabled')).toBe('false');
  });

  it('T1 T3: the target sees an offer card "Transfer from …"; accepting opens the conversation with its transcript', async () => {
    const offer = {
      __typename: 'Offer',
      id: 'i-4.2',
      expiresAt: new Date(Date.now() + 30_000).toISOString(),
      autoAccepted: false,
      transferredBy: { ...BOB },
    };
    // Bob transfers to alice; it stays ACTIVE with him until she answers.
    const incoming = interaction({ id: 'i-4', agent: BOB, contact: { address: 'v-4', name: 'Moving Customer' }, offer });
    let list = [] as ReturnType<typeof interaction>[];
    backend = serving(() => list, {
      AcceptOffer: () => {
        list = [{ ...incoming, agent: ME, offer: null }];
        return { acceptOffer: { __typename: 'OfferPayload', interaction: list[0], userErrors: [] } };
      },
    });
    renderDesk(backend);
    await screen.findByText('No conversations yet.');
    await vi.waitFor(() => expect(backend!.subscriptions('Offers')).toHaveLength(1));
    act(() =>
      backend!.emit('Offers', { offers: { __typename: 'OfferEvent', kind: 'OFFERED', offer: { ...offer, interaction: incoming } } }),
    );

    const offerCard = within(await screen.findByRole('region', { name: 'Offers' })).getByRole('article', { name: 'Moving Customer' });
    expect(offerCard.textContent).toContain('Transfer from Bob Okafor');
    expect(await toastWith('Transfer from Bob Okafor: chat with Moving Customer.')).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Active 0' })).toBeTruthy();

    await userEvent.click(within(offerCard).getByRole('button', { name: 'Accept' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Moving Customer' })).toBeTruthy();
    expect(await screen.findByText('Hello there', { selector: '.msg__text' })).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Active 1' })).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Offers' })).toBeNull();
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveProperty('disabled', false);
    // Accepting hands the focus to the reply box, for the keyboard.
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Reply' })));
  });
});
