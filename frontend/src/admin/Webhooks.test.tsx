import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { deliveryState, webhookURLProblem, WebhooksSection } from './WebhooksSection';

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

const delivery = (over: object = {}) => ({
  __typename: 'WebhookDelivery',
  eventId: 'ev-1',
  attempts: 31,
  lastStatus: 500,
  lastError: 'the receiver answered 500',
  lastAttemptAt: '2026-12-02T10:00:00Z',
  ...over,
});

const hook = (over: object = {}) => ({
  __typename: 'Webhook',
  id: 'wh-1',
  url: 'https://crm.example.com/agentdesk',
  kinds: ['CREATED', 'MESSAGE'],
  active: true,
  createdAt: '2026-12-01T10:00:00Z',
  retryingAttempts: 0,
  nextAttemptAt: null,
  lastDelivery: null,
  failedDeliveries: [],
  ...over,
});

describe('WebhooksSection', () => {
  it('checks the URL and the kinds, shows the new secret once, and redelivers a failed event', async () => {
    let hooks: unknown[] = [];
    const sent: unknown[] = [];
    backend = fakeBackend({
      AdminWebhooks: () => ({ webhooks: hooks }),
      CreateWebhook: (vars: unknown) => {
        sent.push(vars);
        hooks = [hook({ failedDeliveries: [delivery()] })];
        return {
          createWebhook: {
            __typename: 'CreateWebhookPayload',
            webhook: { __typename: 'Webhook', id: 'wh-1', url: 'https://crm.example.com/agentdesk' },
            secret: 'whsec_123',
            userErrors: [],
          },
        };
      },
      RedeliverWebhookEvent: (vars: unknown) => {
        sent.push(vars);
        hooks = [hook()];
        return {
          redeliverWebhookEvent: { __typename: 'RedeliverWebhookEventPayload', delivered: true, delivery: delivery({ lastStatus: 200, lastError: null }), userErrors: [] },
        };
      },
    });
    render(
      <Provider value={backend.client}>
        <WebhooksSection />
      </Provider>,
    );
    const user = userEvent.setup();
    await screen.findByText('No webhooks yet.');
    await user.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(screen.getByText('Enter the CRM’s HTTPS endpoint.')).toBeTruthy();
    expect(sent).toHaveLength(0);

    await user.type(screen.getByRole('textbox', { name: 'Endpoint URL' }), 'https://crm.example.com/agentdesk');
    const events = screen.getByRole('group', { name: 'Events' });
    for (const box of within(events).getAllByRole('checkbox')) {
      if (!['Created', 'Message'].includes(box.parentElement?.textContent ?? '')) await user.click(box);
    }
    await user.click(screen.getByRole('button', { name: 'Create webhook' }));
    const dialog = await screen.findByRole('dialog', { name: 'Webhook to https://crm.example.com/agentdesk created' });
    expect((within(dialog).getByRole('textbox', { name: 'Signing secret' }) as HTMLInputElement).value).toBe('whsec_123');
    expect(sent[0]).toMatchObject({ input: { url: 'https://crm.example.com/agentdesk', kinds: ['CREATED', 'MESSAGE'] } });
    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    expect(screen.queryByDisplayValue('whsec_123')).toBeNull();

    await user.click(await screen.findByRole('button', { name: 'Redeliver event ev-1' }));
    await screen.findByText('Event ev-1 was delivered to https://crm.example.com/agentdesk.');
    expect(sent[1]).toMatchObject({ input: { webhookId: 'wh-1', eventId: 'ev-1' } });
  });

  it('says where deliveries stand and what is wrong with a URL', () => {
    expect(deliveryState(hook())).toBe('Nothing delivered yet');
    expect(deliveryState(hook({ retryingAttempts: 2, nextAttemptAt: '2026-12-02T10:00:40Z', lastDelivery: delivery({ attempts: 2 }) }))).toMatch(
      /^Retrying: 2 failed attempts, last the receiver answered 500; next /,
    );
    expect(deliveryState(hook({ lastDelivery: delivery({ lastStatus: 200, lastError: null }) }))).toMatch(/^Delivered /);
    expect(webhookURLProblem('crm.example.com')).toBe('Enter a full URL, e.g. https://crm.example.com/agentdesk.');
    expect(webhookURLProblem('ftp://crm.example.com')).toBe('Webhook URLs are https://.');
    expect(webhookURLProblem(' https://crm.example.com/x ')).toBeNull();
  });
});
