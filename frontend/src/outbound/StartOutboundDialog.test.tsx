import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { interaction } from '../testing/fixtures';
import { StartOutboundDialog, type OutboundChannel } from './StartOutboundDialog';

const smsIdentities = [
  { __typename: 'ChannelIdentity', id: 'sms-1', channel: 'SMS', name: 'Acme Support', address: '+442071838750' },
  { __typename: 'ChannelIdentity', id: 'sms-2', channel: 'SMS', name: 'Acme Sales', address: '+442071838751' },
];
const waIdentity = { __typename: 'ChannelIdentity', id: 'wa-1', channel: 'WHATSAPP', name: 'Acme on WhatsApp', address: '+442071838760' };
const orderUpdate = {
  __typename: 'MessageTemplate',
  id: 'tpl-order',
  name: 'order_update',
  language: 'en',
  body: 'Hi {{1}}, your order {{2}} is on its way.',
  parameterCount: 2,
};

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

type Payload = { interaction?: unknown; userErrors?: { code: string; message: string; field?: string[] | null }[] };

function open(channel: OutboundChannel, answer: (input: Record<string, unknown>) => Payload) {
  const onStarted = vi.fn();
  const onClose = vi.fn();
  backend = fakeBackend({
    OutboundIdentities: ({ channel: c }) => ({ channelIdentities: c === 'SMS' ? smsIdentities : [waIdentity] }),
    MessageTemplates: () => ({ messageTemplates: [orderUpdate] }),
    StartOutbound: ({ input }) => {
      const payload = answer(input as Record<string, unknown>);
      return {
        startOutbound: {
          __typename: 'StartOutboundPayload',
          interaction: payload.interaction ?? null,
          userErrors: (payload.userErrors ?? []).map((e) => ({ __typename: 'UserError', field: null, ...e })),
        },
      };
    },
  });
  render(
    <Provider value={backend.client}>
      <StartOutboundDialog channel={channel} onClose={onClose} onStarted={onStarted} />
    </Provider>,
  );
  return { onStarted, onClose, backend };
}

const started = (id: string, channel: 'SMS' | 'WHATSAPP') =>
  interaction({ id, channel, direction: 'OUTBOUND', contact: { address: '+447700900123', name: null } });

describe('Initiate SMS interaction (C1, O1)', () => {
  it('lists the outbound numbers with name and number, and keeps Send disabled with the reason until the number is valid', async () => {
    open('SMS', () => ({ interaction: started('new-1', 'SMS') }));
    const user = userEvent.setup();
    const dialog = screen.getByRole('dialog', { name: 'Initiate SMS interaction' });
    const from = within(dialog).getByRole('combobox', { name: 'From' });
    await vi.waitFor(() => expect(within(from).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'Acme Support · +442071838750',
      'Acme Sales · +442071838751',
    ]));
    expect(document.activeElement).toBe(from);

    const send = within(dialog).getByRole('button', { name: 'Send' });
    const reason = () => document.getElementById(send.getAttribute('aria-describedby')!)!.textContent;
    expect(send.getAttribute('aria-disabled')).toBe('true');
    expect(reason()).toBe("Enter the recipient's number.");

    const to = within(dialog).getByRole('textbox', { name: 'To' });
    await user.type(to, '07700 900123');
    expect(to.getAttribute('aria-invalid')).toBe('true');
    expect(reason()).toBe(
      'Enter the number in international form, starting with + and the country code, e.g. +44 7700 900123.',
    );
    await user.click(send);
    expect(backend!.names()).not.toContain('StartOutbound');

    await user.clear(to);
    await user.type(to, '+44 7700 900123');
    expect(to.getAttribute('aria-invalid')).toBeNull();
    expect(reason()).toBe('Write the message.');

    await user.type(within(dialog).getByRole('textbox', { name: 'Message' }), 'Your table is ready');
    expect(send.getAttribute('aria-disabled')).toBe('false');
    expect(send.getAttribute('aria-describedby')).toBeNull();
  });

  it('starts it with startOutbound from the chosen number and, on success, hands over the new interaction', async () => {
    const { onStarted, backend: b } = open('SMS', () => ({ interaction: started('new-2', 'SMS') }));
    const user = userEvent.setup();
    const from = screen.getByRole('combobox', { name: 'From' });
    await vi.waitFor(() => expect(within(from).getAllByRole('option')).toHaveLength(2));
    await user.selectOptions(from, 'sms-2');
    await user.type(screen.getByRole('textbox', { name: 'To' }), '+44 7700 900123');
    // Enter sends, as in the reply box (H1).
    await user.type(screen.getByRole('textbox', { name: 'Message' }), 'Your table is ready{Enter}');

    await vi.waitFor(() => expect(onStarted).toHaveBeenCalledWith('new-2'));
    expect(b.calls.find((c) => c.operationName === 'StartOutbound')!.variables).toEqual({
      input: { channel: 'SMS', identityId: 'sms-2', to: '+447700900123', text: 'Your table is ready' },
    });
  });

  it('shows each refusal next to the field it names: ALREADY_OPEN under To, NO_CAPACITY above the buttons', async () => {
    let refusal: Payload = {
      userErrors: [
        {
          code: 'ALREADY_OPEN',
          field: ['to'],
          message: 'this contact already has an open interaction on this identity; their replies join it',
        },
      ],
    };
    const { onStarted } = open('SMS', () => refusal);
    const user = userEvent.setup();
    await vi.waitFor(() => expect(within(screen.getByRole('combobox', { name: 'From' })).getAllByRole('option')).toHaveLength(2));
    const to = screen.getByRole('textbox', { name: 'To' });
    await user.type(to, '+447700900123');
    await user.type(screen.getByRole('textbox', { name: 'Message' }), 'Hello');
    await user.click(screen.getByRole('button', { name: 'Send' }));

    const alreadyOpen = await screen.findByText(/already has an open interaction/);
    expect(to.getAttribute('aria-describedby')).toContain(alreadyOpen.id);
    expect(to.getAttribute('aria-invalid')).toBe('true');
    expect(onStarted).not.toHaveBeenCalled();

    refusal = { userErrors: [{ code: 'NO_CAPACITY', message: 'your SMS capacity is in use: end or park an interaction first (P2)' }] };
    await user.click(screen.getByRole('button', { name: 'Send' }));
    const noCapacity = await screen.findByText(/capacity is in use/);
    expect(noCapacity.className).toBe('form-error');
    expect(screen.queryByText(/already has an open interaction/)).toBeNull();
  });

  it('says so when no number is set up for outbound SMS', async () => {
    backend = fakeBackend({ OutboundIdentities: () => ({ channelIdentities: [] }) });
    render(
      <Provider value={backend.client}>
        <StartOutboundDialog channel="SMS" onClose={vi.fn()} onStarted={vi.fn()} />
      </Provider>,
    );
    expect(await screen.findByText('No SMS number is set up for outbound messages. A supervisor can set one up.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send' }).getAttribute('aria-disabled')).toBe('true');
  });
});

describe('Initiate WhatsApp interaction (O2, S8)', () => {
  it('chooses a template, fills its parameters with a live preview, and starts with Start Chat', async () => {
    const { onStarted, backend: b } = open('WHATSAPP', () => ({ interaction: started('new-wa', 'WHATSAPP') }));
    const user = userEvent.setup();
    const dialog = screen.getByRole('dialog', { name: 'Initiate WhatsApp interaction' });
    await vi.waitFor(() =>
      expect(within(dialog).getByRole('combobox', { name: 'From' }).textContent).toBe('Acme on WhatsApp · +442071838760'),
    );
    await user.type(within(dialog).getByRole('textbox', { name: 'To' }), '+447700900123');
    const start = within(dialog).getByRole('button', { name: 'Start Chat' });
    expect(document.getElementById(start.getAttribute('aria-describedby')!)!.textContent).toBe('Choose a template.');
    // No free text before the customer answers.
    expect(within(dialog).queryByRole('textbox', { name: 'Message' })).toBeNull();

    const template = within(dialog).getByRole('combobox', { name: 'Template' });
    await vi.waitFor(() => expect(within(template).getByRole('option', { name: 'order_update (en)' })).toBeTruthy());
    await user.selectOptions(template, 'tpl-order');
    await user.type(within(dialog).getByRole('textbox', { name: 'Parameter 1' }), 'Ana');
    await user.type(within(dialog).getByRole('textbox', { name: 'Parameter 2' }), 'A-1009');
    expect(within(dialog).getByTestId('template-preview').textContent).toBe('Hi Ana, your order A-1009 is on its way.');

    await user.click(start);
    await vi.waitFor(() => expect(onStarted).toHaveBeenCalledWith('new-wa'));
    expect(b.calls.find((c) => c.operationName === 'StartOutbound')!.variables).toEqual({
      input: {
        channel: 'WHATSAPP',
        identityId: 'wa-1',
        to: '+447700900123',
        templateId: 'tpl-order',
        templateParameters: ['Ana', 'A-1009'],
      },
    });
  });

  it('shows a refusal of the template next to the template', async () => {
    open('WHATSAPP', () => ({
      userErrors: [{ code: 'INVALID', field: ['templateParameters'], message: 'template parameter 2 must show something, on one line' }],
    }));
    const user = userEvent.setup();
    const template = await screen.findByRole('combobox', { name: 'Template' });
    await vi.waitFor(() => expect(within(template).getAllByRole('option')).toHaveLength(2));
    await user.selectOptions(template, 'tpl-order');
    await user.type(screen.getByRole('textbox', { name: 'To' }), '+447700900123');
    await user.type(screen.getByRole('textbox', { name: 'Parameter 1' }), 'Ana');
    await user.type(screen.getByRole('textbox', { name: 'Parameter 2' }), 'x');
    await user.click(screen.getByRole('button', { name: 'Start Chat' }));
    const error = await screen.findByText('template parameter 2 must show something, on one line');
    expect(template.getAttribute('aria-describedby')).toBe(error.id);
  });

  it('Escape and Cancel close it', async () => {
    const { onClose } = open('WHATSAPP', () => ({}));
    const user = userEvent.setup();
    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledTimes(1);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onClose).toHaveBeenCalledTimes(2);
  });
});
