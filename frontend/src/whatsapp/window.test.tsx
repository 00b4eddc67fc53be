import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { Provider } from 'urql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Composer } from '../interaction/Composer';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { message } from '../testing/fixtures';
import { WindowStatus } from './WindowStatus';
import { formatWindowLeft, freeTextOpen, freeTextSecondsLeft, windowClosedReason } from './window';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

const orderUpdate = {
  __typename: 'MessageTemplate',
  id: 'tpl-order',
  name: 'order_update',
  language: 'en',
  body: 'Hi {{1}}, your order {{2}} is on its way.',
  parameterCount: 2,
};
const hello = {
  __typename: 'MessageTemplate',
  id: 'tpl-hello',
  name: 'hello',
  language: 'en_GB',
  body: 'Hello from Acme! Reply to chat with us.',
  parameterCount: 0,
};

let backend: FakeBackend | undefined;

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  backend?.dispose();
  backend = undefined;
  vi.useRealTimers();
});

function withBackend(ui: ReactNode, sendMessage: (input: Record<string, unknown>) => unknown = sentOk) {
  backend = fakeBackend({
    MessageTemplates: () => ({ messageTemplates: [orderUpdate, hello] }),
    SendMessage: ({ input }) => sendMessage(input as Record<string, unknown>),
  });
  render(<Provider value={backend.client}>{ui}</Provider>);
  return backend;
}

function sentOk(input: Record<string, unknown>) {
  return {
    sendMessage: {
      __typename: 'SendMessagePayload',
      message: message({ id: 'm-new', interactionId: 'wa-1', from: 'AGENT', text: String(input.text), delivery: 'PENDING' }),
      userErrors: [],
    },
  };
}

const user = () => userEvent.setup({ advanceTimers: vi.advanceTimersByTime });

describe('the window, in numbers and words', () => {
  it('is open until freeTextUntil, closed without one', () => {
    expect(freeTextOpen(at(1000), NOW)).toBe(true);
    expect(freeTextOpen(at(0), NOW)).toBe(false);
    expect(freeTextOpen(null, NOW)).toBe(false);
    expect(freeTextSecondsLeft(at(23 * HOUR + 12 * MIN + 30_000), NOW)).toBe(23 * 3600 + 12 * 60 + 30);
    expect(freeTextSecondsLeft(at(-1), NOW)).toBeNull();
    expect(formatWindowLeft(23 * 3600 + 12 * 60 + 59)).toBe('23 h 12 min');
    expect(formatWindowLeft(3 * 3600)).toBe('3 h');
    expect(formatWindowLeft(12 * 60 + 5)).toBe('12 min');
    expect(formatWindowLeft(40)).toBe('under a minute');
  });

  it('explains why only templates may be sent', () => {
    expect(windowClosedReason({ direction: 'INBOUND', lastContactAt: null })).toBe(
      'The customer has not written in 24 hours: WhatsApp allows only an approved template until they reply.',
    );
    expect(windowClosedReason({ direction: 'OUTBOUND', lastContactAt: null })).toBe(
      'The customer has not answered yet: WhatsApp allows only an approved template until they reply.',
    );
  });
});

describe('O2: the countdown in the header', () => {
  it('counts down the free-text window, then says templates only', () => {
    render(<WindowStatus freeTextUntil={at(23 * HOUR + 12 * MIN + 30_000)} />);
    expect(screen.getByText('Free text for 23 h 12 min')).toBeTruthy();

    act(() => vi.advanceTimersByTime(13 * MIN));
    expect(screen.getByText('Free text for 22 h 59 min')).toBeTruthy();

    // The agent comes back the next day: the ticker's next tick shows the window closed.
    vi.setSystemTime(NOW + 24 * HOUR);
    act(() => vi.advanceTimersByTime(600));
    expect(screen.getByText('Templates only')).toBeTruthy();
  });

  it('says templates only when there is no window', () => {
    render(<WindowStatus freeTextUntil={null} />);
    expect(screen.getByText('Templates only').dataset.open).toBe('false');
  });
});

describe('O2: the reply box on WhatsApp', () => {
  const reason = 'The customer has not written in 24 hours: WhatsApp allows only an approved template until they reply.';
  const whatsApp = (freeTextUntil: string | null) => ({ freeTextUntil, identityId: 'wa-identity', closedReason: reason });

  it('offers free text while the window is open', () => {
    withBackend(<Composer interactionId="wa-1" state="ACTIVE" channel="WHATSAPP" whatsApp={whatsApp(at(HOUR))} />);
    expect(screen.getByRole('textbox', { name: 'Reply' })).toBeTruthy();
    expect(screen.queryByLabelText('Template')).toBeNull();
  });

  it('switches to the template picker, and says why, when freeTextUntil is null', async () => {
    withBackend(<Composer interactionId="wa-2" state="ACTIVE" channel="WHATSAPP" whatsApp={whatsApp(null)} />);
    expect(screen.queryByRole('textbox', { name: 'Reply' })).toBeNull();
    expect(screen.getByText(reason)).toBeTruthy();
    const picker = screen.getByRole('combobox', { name: 'Template' });
    await vi.waitFor(() => expect(within(picker).getByRole('option', { name: 'order_update (en)' })).toBeTruthy());
    expect(screen.getByRole('button', { name: 'Send template' })).toHaveProperty('disabled', true);
    expect(screen.getByText('Choose a template.')).toBeTruthy();
  });

  it('switches by itself at the moment the window closes', () => {
    withBackend(<Composer interactionId="wa-3" state="ACTIVE" channel="WHATSAPP" whatsApp={whatsApp(at(10_000))} />);
    expect(screen.getByRole('textbox', { name: 'Reply' })).toBeTruthy();

    act(() => vi.advanceTimersByTime(9_000));
    expect(screen.getByRole('textbox', { name: 'Reply' })).toBeTruthy();

    act(() => vi.advanceTimersByTime(1_100));
    expect(screen.queryByRole('textbox', { name: 'Reply' })).toBeNull();
    expect(screen.getByRole('combobox', { name: 'Template' })).toBeTruthy();
    expect(screen.getByText(reason)).toBeTruthy();
  });

  it('sends a template as sendMessage with empty text, the template and its parameters, after a live preview', async () => {
    const b = withBackend(<Composer interactionId="wa-4" state="ACTIVE" channel="WHATSAPP" whatsApp={whatsApp(null)} />);
    const u = user();
    const picker = screen.getByRole('combobox', { name: 'Template' });
    await vi.waitFor(() => expect(within(picker).getByRole('option', { name: 'order_update (en)' })).toBeTruthy());
    await u.selectOptions(picker, 'tpl-order');

    const preview = screen.getByTestId('template-preview');
    expect(preview.textContent).toBe('Hi {{1}}, your order {{2}} is on its way.');
    await u.type(screen.getByRole('textbox', { name: 'Parameter 1' }), 'Ana');
    expect(preview.textContent).toBe('Hi Ana, your order {{2}} is on its way.');
    expect(screen.getByText('Fill in parameter 2 of the template.')).toBeTruthy();
    await u.type(screen.getByRole('textbox', { name: 'Parameter 2' }), ' A-1009 ');
    expect(preview.textContent).toBe('Hi Ana, your order A-1009 is on its way.');

    await u.click(screen.getByRole('button', { name: 'Send template' }));
    await vi.waitFor(() => expect(b.names()).toContain('SendMessage'));
    expect(b.calls.find((c) => c.operationName === 'SendMessage')!.variables).toEqual({
      input: { interactionId: 'wa-4', text: '', templateId: 'tpl-order', templateParameters: ['Ana', 'A-1009'] },
    });
    // Sent: the picker starts again.
    await vi.waitFor(() => expect(screen.queryByTestId('template-preview')).toBeNull());
  });

  it('shows the server\'s OUTSIDE_WINDOW refusal when free text was sent too late', async () => {
    withBackend(
      <Composer interactionId="wa-5" state="ACTIVE" channel="WHATSAPP" whatsApp={whatsApp(at(HOUR))} />,
      () => ({
        sendMessage: {
          __typename: 'SendMessagePayload',
          message: null,
          userErrors: [
            {
              __typename: 'UserError',
              code: 'OUTSIDE_WINDOW',
              field: ['text'],
              message: 'the contact has not written in the last 24 hours: WhatsApp allows only an approved template until they reply',
            },
          ],
        },
      }),
    );
    const box = screen.getByRole('textbox', { name: 'Reply' });
    await user().type(box, 'Are you there?{Enter}');
    expect((await screen.findByRole('alert')).textContent).toMatch(/^the contact has not written in the last 24 hours/);
    expect(box).toHaveProperty('value', 'Are you there?');
  });

  it('has no window on SMS: free text always', () => {
    withBackend(<Composer interactionId="sms-1" state="ACTIVE" channel="SMS" />);
    expect(screen.getByRole('textbox', { name: 'Reply' })).toBeTruthy();
  });
});
