import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionProvider } from '../connection/ConnectionContext';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { interaction, message, ME } from '../testing/fixtures';
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

const smsIdentity = { id: 'sms-1', channel: 'SMS' as const, name: 'Acme Support', address: '+442071838750' };
const waIdentity = { id: 'wa-1', channel: 'WHATSAPP' as const, name: 'Acme on WhatsApp', address: '+442071838760' };

const sms = interaction({
  id: 'sms-i',
  channel: 'SMS',
  contact: { address: '+447700900123', name: null },
  identity: smsIdentity,
});

const page = (interactionId: string, messages: ReturnType<typeof message>[]) => ({
  interaction: {
    __typename: 'Interaction',
    id: interactionId,
    transcript: {
      __typename: 'MessageConnection',
      edges: messages.map((node) => ({ __typename: 'MessageEdge', cursor: node.id, node })),
      pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: messages.at(-1)?.id ?? null },
    },
  },
});

const agentReply = (overrides: Partial<Parameters<typeof message>[0]> & { id: string }) =>
  message({ interactionId: 'sms-i', from: 'AGENT', agent: ME as never, text: 'Your table is ready', ...overrides });

function deliveryUpdate(id: string, delivery: string, deliveryError: unknown = null) {
  return {
    deliveryUpdates: {
      __typename: 'Message',
      id,
      interactionId: 'sms-i',
      delivery,
      deliveryError: deliveryError && { __typename: 'DeliveryError', providerCode: null, ...deliveryError },
    },
  };
}

describe('Desk on provider channels', () => {
  it('C1: New → Initiate SMS interaction starts one, and the new ACTIVE interaction opens in the log', async () => {
    let log: ReturnType<typeof interaction>[] = [];
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: log }),
      OutboundIdentities: () => ({ channelIdentities: [{ __typename: 'ChannelIdentity', ...smsIdentity }] }),
      StartOutbound: () => {
        const started = { ...sms, direction: 'OUTBOUND' as const };
        log = [started];
        return { startOutbound: { __typename: 'StartOutboundPayload', interaction: started, userErrors: [] } };
      },
      InteractionDetail: () => ({ interaction: { ...sms, direction: 'OUTBOUND' } }),
      Transcript: ({ id }) => page(id as string, []),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    const user = userEvent.setup();
    await screen.findByText('No conversations yet.');

    const menuButton = screen.getByRole('button', { name: 'New' });
    expect(menuButton.getAttribute('aria-haspopup')).toBe('menu');
    await user.click(menuButton);
    const menu = screen.getByRole('menu', { name: 'New' });
    expect(within(menu).getAllByRole('menuitem').map((i) => i.textContent)).toEqual([
      'Initiate SMS interaction',
      'Initiate WhatsApp interaction',
      'Initiate email interaction',
    ]);
    expect(document.activeElement?.textContent).toBe('Initiate SMS interaction');
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement?.textContent).toBe('Initiate WhatsApp interaction');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(menuButton);

    await user.keyboard('{ArrowDown}{Enter}');
    const dialog = await screen.findByRole('dialog', { name: 'Initiate SMS interaction' });
    await vi.waitFor(() =>
      expect(within(dialog).getByRole('combobox', { name: 'From' }).textContent).toBe('Acme Support · +442071838750'),
    );
    await user.type(within(dialog).getByRole('textbox', { name: 'To' }), '+447700900123');
    await user.type(within(dialog).getByRole('textbox', { name: 'Message' }), 'Your table is ready');
    await user.click(within(dialog).getByRole('button', { name: 'Send' }));

    expect(await screen.findByRole('heading', { level: 2, name: '+447700900123' })).toBeTruthy();
    expect(screen.queryByRole('dialog')).toBeNull();
    const card = screen.getByRole('button', { name: /\+447700900123/ });
    expect(card.getAttribute('aria-current')).toBe('true');
    // C4/O1: header and insights say which number it runs on; the contact is known by their number.
    expect(screen.getByTitle('The number this conversation runs on').textContent).toBe('via Acme Support +442071838750');
    const insights = screen.getByRole('region', { name: 'Insights' });
    expect(within(insights).getByText('Contact').nextElementSibling!.textContent).toBe('+447700900123');
    expect(within(insights).getByText('Identity').nextElementSibling!.textContent).toBe('Acme Support · +442071838750');
    expect(within(insights).getByText('Channel').nextElementSibling!.textContent).toBe('SMS (outbound)');
  });

  it('delivery marks follow the deliveryUpdates subscription: graphcache updates the message by its ID', async () => {
    const reply = agentReply({ id: 'm-1', delivery: 'PENDING' });
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [sms] }),
      InteractionDetail: () => ({ interaction: sms }),
      Transcript: ({ id }) => page(id as string, [reply]),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await userEvent.click(await screen.findByRole('button', { name: /\+447700900123/ }));
    const article = (await screen.findByText('Your table is ready', { selector: '.msg__text' })).closest('article')!;
    expect(within(article).getByTitle('Sending')).toBeTruthy();
    await vi.waitFor(() => expect(backend!.subscriptions('DeliveryUpdates')).toHaveLength(1));

    for (const [status, label] of [
      ['SENT', 'Sent'],
      ['DELIVERED', 'Delivered'],
      ['READ', 'Read'],
    ] as const) {
      act(() => backend!.emit('DeliveryUpdates', deliveryUpdate('m-1', status)));
      await vi.waitFor(() => expect(within(article).getByTitle(label).dataset.delivery).toBe(status));
    }
    expect(backend.names().filter((n) => n === 'Transcript')).toHaveLength(1);
  });

  it('E5: a TEMPORARY failure offers Retry, which sends the same message again', async () => {
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [sms] }),
      InteractionDetail: () => ({ interaction: sms }),
      Transcript: ({ id }) => page(id as string, [agentReply({ id: 'm-2', delivery: 'SENT' })]),
      RetryMessage: ({ input }) => ({
        retryMessage: {
          __typename: 'SendMessagePayload',
          message: agentReply({ id: (input as { messageId: string }).messageId, delivery: 'PENDING' }),
          userErrors: [],
        },
      }),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /\+447700900123/ }));
    await screen.findByTitle('Sent');
    await vi.waitFor(() => expect(backend!.subscriptions('DeliveryUpdates')).toHaveLength(1));

    act(() =>
      backend!.emit('DeliveryUpdates', deliveryUpdate('m-2', 'FAILED', { kind: 'TEMPORARY', message: 'The provider timed out' })),
    );
    expect(await screen.findByText('Not delivered: The provider timed out. A temporary problem: send it again.')).toBeTruthy();
    // The conversation is in focus: the failure shows under the message, not in a toast.
    expect(screen.queryByText(/^A message was not delivered/)).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await vi.waitFor(() => expect(screen.getByTitle('Sending')).toBeTruthy());
    expect(backend.calls.find((c) => c.operationName === 'RetryMessage')!.variables).toEqual({ input: { messageId: 'm-2' } });
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('E5: a CONTENT failure offers Edit, which puts the text back in the reply box', async () => {
    const failed = agentReply({
      id: 'm-3',
      text: 'Call us on 0800 FREE',
      delivery: 'FAILED',
      deliveryError: { kind: 'CONTENT', message: 'Message blocked by the carrier', providerCode: '30007' },
    });
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [sms] }),
      InteractionDetail: () => ({ interaction: sms }),
      Transcript: ({ id }) => page(id as string, [failed]),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /\+447700900123/ }));
    expect(
      await screen.findByText('Not delivered: Message blocked by the carrier (code 30007). Change the message and send it again.'),
    ).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();

    await user.click(screen.getByRole('button', { name: 'Edit' }));
    const box = screen.getByRole('textbox', { name: 'Reply' });
    expect(box).toHaveProperty('value', 'Call us on 0800 FREE');
    await vi.waitFor(() => expect(document.activeElement).toBe(box));
  });

  it('a failure in a conversation not in focus gets a toast with Open…', async () => {
    const other = interaction({ id: 'chat-1', contact: { address: 'v-1', name: 'Web Visitor' } });
    let reply = agentReply({ id: 'm-4', delivery: 'SENT' });
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [sms, other] }),
      InteractionDetail: ({ id }) => ({ interaction: id === sms.id ? sms : other }),
      Transcript: ({ id }) => page(id as string, id === sms.id ? [reply] : []),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Web Visitor/ }));
    await vi.waitFor(() => expect(backend!.subscriptions('DeliveryUpdates')).toHaveLength(1));

    const error = { kind: 'CONTENT' as const, message: 'Unknown number.' };
    reply = agentReply({ id: 'm-4', delivery: 'FAILED', deliveryError: { ...error, providerCode: null } });
    act(() => backend!.emit('DeliveryUpdates', deliveryUpdate('m-4', 'FAILED', error)));
    const toast = await screen.findByText('A message was not delivered: Unknown number.');
    await user.click(within(toast.parentElement!).getByRole('button', { name: 'Open…' }));
    expect(await screen.findByRole('heading', { level: 2, name: '+447700900123' })).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'Edit' })).toBeTruthy();
  });

  it('O2: an outbound WhatsApp offers templates only until the customer answers, then free text with the countdown', async () => {
    const waiting = interaction({
      id: 'wa-i',
      channel: 'WHATSAPP',
      direction: 'OUTBOUND',
      contact: { address: '+447700900123', name: null },
      identity: waIdentity,
      freeTextUntil: null,
    });
    let current = waiting;
    backend = fakeBackend({
      MyInteractions: () => ({ myInteractions: [current] }),
      InteractionDetail: () => ({ interaction: current }),
      Transcript: ({ id }) => page(id as string, []),
      MessageTemplates: () => ({ messageTemplates: [] }),
    });
    renderWith(backend, <Desk ready meId="agent-alice" />);
    await userEvent.click(await screen.findByRole('button', { name: /\+447700900123/ }));
    expect(
      await screen.findByText('The customer has not answered yet: WhatsApp allows only an approved template until they reply.'),
    ).toBeTruthy();
    expect(screen.getByText('Templates only')).toBeTruthy();
    expect(screen.queryByRole('textbox', { name: 'Reply' })).toBeNull();
    await vi.waitFor(() => expect(backend!.subscriptions('InteractionUpdates')).toHaveLength(1));

    // The customer answers: the server's interaction update carries the new window.
    const until = new Date(Date.now() + 24 * 3600_000 - 1000).toISOString();
    current = { ...waiting, freeTextUntil: until, lastContactAt: new Date().toISOString() };
    act(() => backend!.emit('InteractionUpdates', { interactionUpdates: { ...current, completedAt: null } }));

    expect(await screen.findByRole('textbox', { name: 'Reply' })).toBeTruthy();
    expect(screen.getByText('Free text for 23 h 59 min')).toBeTruthy();
    expect(screen.queryByRole('combobox', { name: 'Template' })).toBeNull();
  });
});
