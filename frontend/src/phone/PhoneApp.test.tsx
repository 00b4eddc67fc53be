import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { createPhoneApi, type PhoneApi, type PhoneMessage, type PhoneState } from './api';
import { PhoneApp } from './PhoneApp';
import { statusLabel, threadOf, threadSummaries } from './thread';

const ME = '+447700900123';
const identities: PhoneState['identities'] = [
  { id: 'sms-1', channel: 'SMS', address: '+442071838750', name: 'Acme Support', provider: 'simulator' },
  { id: 'wa-1', channel: 'WHATSAPP', address: '+442071838760', name: 'Acme on WhatsApp', provider: 'simulator' },
];

const msg = (m: Partial<PhoneMessage> & Pick<PhoneMessage, 'id' | 'direction' | 'text' | 'at'>): PhoneMessage => ({
  phone: ME,
  identityId: 'sms-1',
  template: null,
  status: m.direction === 'in' ? 'received' : 'delivered',
  ...m,
});

const state: PhoneState = {
  identities,
  messages: [
    msg({ id: 'p2', direction: 'out', text: 'Hello Ana, how can we help?', at: '2026-11-21T12:01:00Z', status: 'read' }),
    msg({ id: 'p1', direction: 'in', text: 'Is my table ready?', at: '2026-11-21T12:00:00Z' }),
    msg({ id: 'p3', direction: 'out', text: 'Yes, come in!', at: '2026-11-21T12:02:00Z' }),
    msg({ id: 'w1', identityId: 'wa-1', direction: 'out', text: 'Hi Ana, your order A-1 is on its way.', template: 'order_update', at: '2026-11-21T12:03:00Z' }),
    msg({ id: 'x1', phone: '+15550001111', direction: 'in', text: 'Someone else', at: '2026-11-21T12:00:30Z' }),
  ],
};

function fakeApi(initial: PhoneState = state, sendStatus = 200) {
  let current = initial;
  const api = {
    state: vi.fn(async () => current),
    send: vi.fn(async () => sendStatus),
    read: vi.fn(async () => {}),
  } satisfies PhoneApi;
  return { api, set: (next: PhoneState) => (current = next) };
}

describe('phone threads', () => {
  it('keep one conversation per phone and desk number, oldest first', () => {
    expect(threadOf(state, ME, 'sms-1').map((m) => m.id)).toEqual(['p1', 'p2', 'p3']);
    expect(threadOf(state, ME, 'wa-1').map((m) => m.id)).toEqual(['w1']);
    expect(threadSummaries(state, ME).map((t) => [t.identity.id, t.last?.id, t.unread])).toEqual([
      ['sms-1', 'p3', 1],
      ['wa-1', 'w1', 1],
    ]);
    expect(threadSummaries(state, ME, new Set(['p3'])).map((t) => t.unread)).toEqual([0, 1]);
    expect(statusLabel(state.messages[1]!)).toBe('Delivered');
    expect(statusLabel(state.messages[0]!)).toBe('Read');
  });
});

describe('the phone simulator page', () => {
  it('shows the desk numbers and the conversation with the chosen one, like a messaging app', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
    const { api } = fakeApi();
    render(<PhoneApp api={api} pollMs={60_000} />);

    const numbers = await screen.findByRole('navigation', { name: 'Desk numbers' });
    const [support, whatsapp] = within(numbers).getAllByRole('button');
    expect(support!.getAttribute('aria-current')).toBe('true');
    expect(support!.textContent).toContain('Acme Support');
    expect(support!.textContent).toContain('SMS');
    expect(support!.textContent).toContain('1 new');
    expect(whatsapp!.textContent).toContain('WhatsApp');

    const log = screen.getByRole('log', { name: 'Messages with Acme Support' });
    const items = within(log).getAllByRole('listitem');
    expect(items.map((li) => li.dataset.direction)).toEqual(['in', 'out', 'out']);
    expect(items[0]!.textContent).toContain('You: Is my table ready?');
    expect(items[0]!.className).toContain('bubble--mine');
    expect(items[1]!.textContent).toContain('Acme Support: Hello Ana, how can we help?');
    expect(within(log).queryByText('Someone else')).toBeNull();

    // The desk's message it had not read yet is marked read, once.
    await vi.waitFor(() => expect(api.read).toHaveBeenCalledWith('p3'));
    expect(api.read).not.toHaveBeenCalledWith('p2');
    expect(api.read).not.toHaveBeenCalledWith('w1');
    // Shown is read, even on SMS, whose handsets send no read receipts.
    await vi.waitFor(() => expect(support!.textContent).not.toContain('new'));
    expect(whatsapp!.textContent).toContain('1 new');

    await userEvent.click(whatsapp!);
    const waLog = screen.getByRole('log', { name: 'Messages with Acme on WhatsApp' });
    expect(within(waLog).getByText('Template: order_update')).toBeTruthy();
    expect(within(waLog).getByText('Hi Ana, your order A-1 is on its way.')).toBeTruthy();
    await vi.waitFor(() => expect(api.read).toHaveBeenCalledWith('w1'));
    expect(api.read).toHaveBeenCalledTimes(2);
  });

  it('Enter sends as the phone, to the chosen desk number, and clears the box', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: '+44 7700 900123', name: ' Ana ' }));
    const { api } = fakeApi();
    render(<PhoneApp api={api} pollMs={60_000} />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: /Acme on WhatsApp/ }));
    const box = screen.getByRole('textbox', { name: 'Message to Acme on WhatsApp' });
    await user.type(box, 'Where is it?{Shift>}{Enter}{/Shift}Thanks{Enter}');

    expect(api.send).toHaveBeenCalledWith({ phone: ME, name: 'Ana', identityId: 'wa-1', text: 'Where is it?\nThanks' });
    await vi.waitFor(() => expect(box).toHaveProperty('value', ''));
  });

  it('keeps the text and says so when the desk\'s webhook refuses it', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
    const { api } = fakeApi(state, 401);
    render(<PhoneApp api={api} pollMs={60_000} />);
    const user = userEvent.setup();
    const box = await screen.findByRole('textbox', { name: 'Message to Acme Support' });
    await user.type(box, 'Hello?{Enter}');
    expect((await screen.findByRole('alert')).textContent).toBe(
      "The desk's webhook answered 401: the message was not taken. Your text is still here.",
    );
    expect(box).toHaveProperty('value', 'Hello?');
  });

  it('asks for a number in international form before anything is sent', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: '07700 900123', name: '' }));
    const { api } = fakeApi();
    render(<PhoneApp api={api} pollMs={60_000} />);
    const number = screen.getByRole('textbox', { name: 'Your number' });
    expect(number.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(number.getAttribute('aria-describedby')!)!.textContent).toMatch(
      /^Enter the number in international form/,
    );
    const user = userEvent.setup();
    await user.type(await screen.findByRole('textbox', { name: 'Message to Acme Support' }), 'Hi{Enter}');
    expect(api.send).not.toHaveBeenCalled();
    expect(screen.getByText('Enter your number first.')).toBeTruthy();
  });

  it('polls the state every second while the page is visible', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
      const { api, set } = fakeApi({ identities, messages: [] });
      render(<PhoneApp api={api} />);
      expect(await screen.findByText('No messages yet: write the first one below.')).toBeTruthy();

      set(state);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(1000);
      });
      expect(await within(screen.getByRole('log')).findByText('Yes, come in!')).toBeTruthy();
      const calls = api.state.mock.calls.length;

      vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3000);
      });
      expect(api.state.mock.calls.length).toBe(calls);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says how to turn the simulator on when the server does not serve it', async () => {
    const api = createPhoneApi('/demo/phone/api', async () => new Response('404 page not found', { status: 404 }));
    render(<PhoneApp api={api} pollMs={60_000} />);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The phone simulator is off: start agentdesk with -demo to use it.',
    );
  });

  it('shows the simulator\'s own explanation of a refusal', async () => {
    const api = createPhoneApi('/demo/phone/api', async () =>
      Response.json({ error: 'a phone number in international form (+44…) and a text' }, { status: 400 }),
    );
    await expect(api.send({ phone: 'x', name: '', identityId: 'sms-1', text: '' })).rejects.toThrow(
      'The simulator answered 400: a phone number in international form (+44…) and a text',
    );
  });

  it('speaks the simulator\'s JSON API', async () => {
    const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
      void init;
      if (String(url).endsWith('/state')) return Response.json(state);
      if (String(url).endsWith('/send')) return Response.json({ status: 200 });
      return new Response(null, { status: 204 });
    });
    const api = createPhoneApi('/demo/phone/api', fetch as typeof globalThis.fetch);
    expect((await api.state()).identities).toHaveLength(2);
    expect(await api.send({ phone: ME, name: 'Ana', identityId: 'sms-1', text: 'Hi' })).toBe(200);
    await api.read('p3');
    expect(fetch.mock.calls.map(([url, init]) => [url, init?.method ?? 'GET', init?.body ?? null])).toEqual([
      ['/demo/phone/api/state', 'GET', null],
      ['/demo/phone/api/send', 'POST', JSON.stringify({ phone: ME, name: 'Ana', identityId: 'sms-1', text: 'Hi' })],
      ['/demo/phone/api/read', 'POST', JSON.stringify({ id: 'p3' })],
    ]);
  });
});

describe('attaching a file', () => {
  it('sends the chosen image with the text, shows its name, and can remove it', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
    const { api } = fakeApi();
    render(<PhoneApp api={api} pollMs={60_000} />);
    const user = userEvent.setup();
    const attach = await screen.findByLabelText('Attach an image or PDF');
    expect(attach.getAttribute('type')).toBe('file');
    expect(attach.getAttribute('accept')).toContain('application/pdf');

    const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'part.png', { type: 'image/png' });
    await user.upload(attach, png);
    expect(screen.getByText(/part\.png \(4 B\)/)).toBeTruthy();
    // Removing it takes it off the message.
    await user.click(screen.getByRole('button', { name: 'Remove part.png' }));
    expect(screen.queryByText(/part\.png/)).toBeNull();

    // A file alone can be sent: the button is enabled without text.
    await user.upload(attach, png);
    const send = screen.getByRole('button', { name: 'Send' });
    expect(send).toHaveProperty('disabled', false);
    await user.type(screen.getByRole('textbox', { name: 'Message to Acme Support' }), 'The broken part');
    await user.click(send);
    expect(api.send).toHaveBeenCalledWith({
      phone: ME,
      name: 'Ana',
      identityId: 'sms-1',
      text: 'The broken part',
      file: { name: 'part.png', contentType: 'image/png', data: 'iVBORw==' },
    });
    await vi.waitFor(() => expect(screen.queryByRole('button', { name: 'Remove part.png' })).toBeNull());
  });

  it('refuses a file the desk would refuse before sending it', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
    const { api } = fakeApi();
    render(<PhoneApp api={api} pollMs={60_000} />);
    const user = userEvent.setup({ applyAccept: false });
    await user.upload(await screen.findByLabelText('Attach an image or PDF'), new File(['hi'], 'notes.txt', { type: 'text/plain' }));
    expect(screen.getByText('Only images (PNG, JPEG, GIF, WebP) and PDFs can be sent.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', true);
    expect(api.send).not.toHaveBeenCalled();
  });

  it('shows the files the phone sent in its thread', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
    const withFile = {
      identities,
      messages: [msg({ id: 'f1', direction: 'in', text: '', at: '2026-11-21T12:00:00Z', file: { name: 'invoice.pdf', contentType: 'application/pdf', size: 2048 } })],
    };
    render(<PhoneApp api={fakeApi(withFile).api} pollMs={60_000} />);
    const log = await screen.findByRole('log', { name: 'Messages with Acme Support' });
    expect(await within(log).findByText(/invoice\.pdf \(2 KB\)/)).toBeTruthy();
  });

  it('links the files the desk sent, so the phone downloads them', async () => {
    localStorage.setItem('agentdesk.phone', JSON.stringify({ phone: ME, name: 'Ana' }));
    const fromDesk = {
      identities,
      messages: [
        msg({
          id: 'o1',
          direction: 'out',
          text: 'Your invoice',
          at: '2026-11-21T12:00:00Z',
          file: { name: 'invoice.pdf', contentType: 'application/pdf', size: 4096, url: '/demo/phone/api/file?id=o1&n=0' },
        }),
      ],
    };
    render(<PhoneApp api={fakeApi(fromDesk).api} pollMs={60_000} />);
    const log = await screen.findByRole('log', { name: 'Messages with Acme Support' });
    const link = await within(log).findByRole('link', { name: 'invoice.pdf' });
    expect(link.getAttribute('href')).toBe('/demo/phone/api/file?id=o1&n=0');
    expect(within(log).getByText('Your invoice')).toBeTruthy();
  });
});
