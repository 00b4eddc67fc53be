import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { AgentEditor } from './AgentsSection';
import { ApiKeysSection } from './ApiKeysSection';
import { PlanEditor, type Plan } from './PlansSection';

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
  window.location.hash = '';
});

const sales = (over: Partial<Plan> = {}): Plan =>
  ({
    __typename: 'InteractionPlan',
    id: 'plan-sales',
    name: 'Sales',
    version: 1,
    channels: ['WEBCHAT', 'SMS'],
    dispositionCodes: [{ __typename: 'DispositionCode', code: 'SALE', label: 'Sale made' }],
    dispositionRequired: false,
    wrapSeconds: 60,
    offerTimeoutSeconds: 30,
    autoAccept: false,
    autoParkSeconds: 600,
    parkedTimeoutSeconds: 3600,
    dispositionAssist: false,
    summaryAssist: false,
    postParkingPlan: null,
    ...over,
  }) as Plan;

const planPayload = (field: string, plan: Plan | null, userErrors: unknown[] = []) => ({
  [field]: { __typename: 'PlanPayload', plan, userErrors: userErrors.map((e) => ({ __typename: 'UserError', field: null, ...(e as object) })) },
});

const plans = { AdminPlanNames: () => ({ interactionPlans: [{ __typename: 'InteractionPlan', id: 'plan-sales', name: 'Sales', channels: ['WEBCHAT'] }] }) };

function renderWith(b: FakeBackend, ui: React.ReactNode) {
  return render(<Provider value={b.client}>{ui}</Provider>);
}

describe('PlanEditor', () => {
  it('says what is wrong as the supervisor types, and only once they have touched the field', async () => {
    backend = fakeBackend({});
    renderWith(backend, <PlanEditor plan={sales()} plans={[sales()]} />);
    const user = userEvent.setup();
    const offer = screen.getByRole('textbox', { name: 'Offer timeout seconds' });
    expect(offer.getAttribute('aria-invalid')).toBeNull();
    expect(screen.queryByText('Enter a number from 5 to 600.')).toBeNull();

    await user.clear(offer);
    await user.type(offer, '700');
    expect(offer.getAttribute('aria-invalid')).toBe('true');
    const error = screen.getByText('Enter a number from 5 to 600.');
    // The message is the field's description, so it is read with it.
    expect(offer.getAttribute('aria-describedby')?.split(' ')).toContain(error.id);
    await user.clear(offer);
    await user.type(offer, '45');
    expect(offer.getAttribute('aria-invalid')).toBeNull();

    // Codes: add one, leave it empty, and the row says so; remove it again.
    await user.click(screen.getByRole('button', { name: 'Add code' }));
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(screen.getByRole('textbox', { name: 'Code 2' }).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Enter the code.')).toBeTruthy();
    expect(backend.calls).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Remove code 2' }));
    expect(screen.queryByRole('textbox', { name: 'Code 2' })).toBeNull();
  });

  it('shows the server’s userErrors on the field they name', async () => {
    backend = fakeBackend({
      UpdatePlan: () =>
        planPayload('updatePlan', null, [{ code: 'CYCLE', message: 'post-parking plans would lead back to Sales', field: ['postParkingPlanId'] }]),
    });
    renderWith(backend, <PlanEditor plan={sales()} plans={[sales(), sales({ id: 'plan-support', name: 'Support' })]} />);
    const user = userEvent.setup();
    await user.selectOptions(screen.getByRole('combobox', { name: 'After parking' }), 'Support');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    const select = screen.getByRole('combobox', { name: 'After parking' });
    await vi.waitFor(() => expect(select.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('post-parking plans would lead back to Sales')).toBeTruthy();
    expect(backend.calls[0]!.variables.input).toMatchObject({ planId: 'plan-sales', version: 1, postParkingPlanId: 'plan-support' });
  });

  it('CONFLICT: shows the current values, and re-applies only the supervisor’s change with the current version', async () => {
    const current = sales({ version: 2, offerTimeoutSeconds: 45 });
    let answer = planPayload('updatePlan', current, [
      { code: 'CONFLICT', message: 'someone else changed this plan meanwhile; these are its current settings' },
    ]);
    backend = fakeBackend({ UpdatePlan: () => answer });
    renderWith(backend, <PlanEditor plan={sales()} plans={[sales()]} />);
    const user = userEvent.setup();
    const wrap = screen.getByRole('textbox', { name: 'Wrap seconds' });
    await user.clear(wrap);
    await user.type(wrap, '90');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));

    const alert = await screen.findByRole('alert');
    expect(within(alert).getByRole('heading', { name: 'Changed by someone else' })).toBeTruthy();
    const values = alert.querySelector('dl')!;
    expect(values.textContent).toContain('Offer timeout45 s');
    expect(values.textContent).toContain('Wrap timer60 s');
    // The form still holds what the supervisor typed.
    expect((screen.getByRole('textbox', { name: 'Wrap seconds' }) as HTMLInputElement).value).toBe('90');
    expect(backend.calls.at(-1)!.variables.input).toMatchObject({ version: 1, wrapSeconds: 90, offerTimeoutSeconds: 30 });

    answer = planPayload('updatePlan', sales({ version: 3, offerTimeoutSeconds: 45, wrapSeconds: 90 }));
    await user.click(within(alert).getByRole('button', { name: 'Re-apply my changes' }));
    await screen.findByText(/^Saved\./);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(backend.calls.at(-1)!.variables.input).toMatchObject({ version: 2, wrapSeconds: 90, offerTimeoutSeconds: 45 });
    expect((screen.getByRole('textbox', { name: 'Offer timeout seconds' }) as HTMLInputElement).value).toBe('45');

    // The next save goes from the version just saved.
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await vi.waitFor(() => expect(backend!.calls.at(-1)!.variables.input).toMatchObject({ version: 3 }));
  });

  it('CONFLICT: "Use the current values" puts them in the form', async () => {
    const current = sales({ version: 2, offerTimeoutSeconds: 45 });
    backend = fakeBackend({ UpdatePlan: () => planPayload('updatePlan', current, [{ code: 'CONFLICT', message: 'changed' }]) });
    renderWith(backend, <PlanEditor plan={sales()} plans={[sales()]} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Wrap seconds' }), '0');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await user.click(await screen.findByRole('button', { name: 'Use the current values' }));
    expect((screen.getByRole('textbox', { name: 'Offer timeout seconds' }) as HTMLInputElement).value).toBe('45');
    expect((screen.getByRole('textbox', { name: 'Wrap seconds' }) as HTMLInputElement).value).toBe('60');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

const agentPayload = (userErrors: unknown[]) => ({
  createAgent: { __typename: 'AgentPayload', agent: null, userErrors: userErrors.map((e) => ({ __typename: 'UserError', ...(e as object) })) },
});

describe('AgentEditor', () => {
  it('a new agent: required fields and ranges as they type; nothing is sent until they are right', async () => {
    backend = fakeBackend({ ...plans });
    renderWith(backend, <AgentEditor agent={null} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    expect(screen.getByRole('textbox', { name: 'Username' }).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Enter the username they sign in with.')).toBeTruthy();
    expect(screen.getByText('Enter their first password.')).toBeTruthy();
    expect(backend.names().filter((n) => n === 'CreateAgent')).toEqual([]);

    await user.type(screen.getByRole('textbox', { name: 'Username' }), 'ann');
    expect(screen.getByRole('textbox', { name: 'Username' }).getAttribute('aria-invalid')).toBeNull();
    await user.type(screen.getByRole('textbox', { name: 'Webchat' }), '101');
    expect(screen.getByRole('textbox', { name: 'Webchat' }).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Enter a number from 0 to 100.')).toBeTruthy();
  });

  it('shows the server’s userErrors on their fields: a taken username, a capacity by the channel sent', async () => {
    backend = fakeBackend({
      ...plans,
      CreateAgent: () =>
        agentPayload([
          { code: 'TAKEN', message: 'the username ann is taken', field: ['username'] },
          { code: 'INVALID', message: 'webchat capacity must be 0 to 100', field: ['input', 'capacity', '0', 'max'] },
        ]),
    });
    renderWith(backend, <AgentEditor agent={null} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Username' }), 'ann');
    await user.type(screen.getByRole('textbox', { name: 'Name', exact: true } as never), 'Ann Agent');
    await user.type(screen.getByLabelText('Password'), 'ann-password');
    await user.click(await screen.findByRole('checkbox', { name: 'Sales' }));
    await user.type(screen.getByRole('textbox', { name: 'Webchat' }), '3');
    await user.click(screen.getByRole('checkbox', { name: /Auto-accept/ }));
    await user.click(screen.getByRole('button', { name: 'Create agent' }));

    await screen.findByText('the username ann is taken');
    expect(screen.getByRole('textbox', { name: 'Username' }).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('textbox', { name: 'Webchat' }).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('webchat capacity must be 0 to 100')).toBeTruthy();
    expect(backend.calls.find((c) => c.operationName === 'CreateAgent')!.variables.input).toEqual({
      username: 'ann',
      name: 'Ann Agent',
      password: 'ann-password',
      role: 'AGENT',
      planIds: ['plan-sales'],
      capacity: [{ channel: 'WEBCHAT', max: 3 }],
      autoAccept: true,
    });
    // Typing again clears the server's word on that field.
    await user.type(screen.getByRole('textbox', { name: 'Username' }), '2');
    expect(screen.queryByText('the username ann is taken')).toBeNull();
  });

  it('disabling asks first and says what happens to them and their interactions', async () => {
    const ann = {
      __typename: 'Agent' as const,
      id: 'agent-ann',
      username: 'ann',
      name: 'Ann Agent',
      role: 'AGENT' as const,
      disabled: false,
      autoAccept: false,
      plans: [],
      capacity: [{ __typename: 'ChannelCapacity' as const, channel: 'WEBCHAT' as const, max: 4, used: 1 }],
    };
    backend = fakeBackend({
      ...plans,
      UpdateAgent: () => ({ updateAgent: { __typename: 'AgentPayload', agent: { ...ann, disabled: true }, userErrors: [] } }),
    });
    renderWith(backend, <AgentEditor agent={ann} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Disable agent…' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Disable Ann Agent?' });
    expect(confirm.textContent).toContain('signed out at once');
    expect(confirm.textContent).toContain('go back to their plans’ queues');
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel' }));
    await user.click(within(confirm).getByRole('button', { name: 'Disable agent' }));
    await screen.findByText('Ann Agent is disabled and signed out.');
    expect(backend.calls.find((c) => c.operationName === 'UpdateAgent')!.variables.input).toEqual({ agentId: 'agent-ann', disabled: true });
  });
});

describe('ApiKeysSection', () => {
  it('shows a new key’s secret once, with Copy; revoking asks first', async () => {
    const key = { __typename: 'ApiKey', id: 'key-1', name: 'Acme CRM', createdAt: '2026-11-21T12:00:00Z', lastUsedAt: null, revoked: false };
    let keys: unknown[] = [];
    backend = fakeBackend({
      AdminApiKeys: () => ({ apiKeys: keys }),
      CreateApiKey: () => {
        keys = [key];
        return { createApiKey: { __typename: 'CreateApiKeyPayload', apiKey: key, secret: 'adk_secret_123', userErrors: [] } };
      },
      RevokeApiKey: () => ({ revokeApiKey: { __typename: 'ApiKeyPayload', apiKey: { __typename: 'ApiKey', id: 'key-1', revoked: true }, userErrors: [] } }),
    });
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue();
    renderWith(backend, <ApiKeysSection />);
    const user = userEvent.setup();
    await screen.findByText('No API keys yet.');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(screen.getByText('Enter what the key is for, e.g. the CRM’s name.')).toBeTruthy();
    await user.type(screen.getByRole('textbox', { name: 'Key name' }), 'Acme CRM');
    await user.click(screen.getByRole('button', { name: 'Create key' }));

    const dialog = await screen.findByRole('dialog', { name: 'API key Acme CRM created' });
    expect(dialog.textContent).toContain('you will not see it again');
    expect((within(dialog).getByRole('textbox', { name: 'API key' }) as HTMLInputElement).value).toBe('adk_secret_123');
    await user.click(within(dialog).getByRole('button', { name: 'Copy key' }));
    expect(writeText).toHaveBeenCalledWith('adk_secret_123');
    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    expect(screen.queryByText('adk_secret_123')).toBeNull();

    await user.click(await screen.findByRole('button', { name: 'Revoke Acme CRM' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Revoke Acme CRM?' });
    await user.click(within(confirm).getByRole('button', { name: 'Revoke key' }));
    await screen.findByText('The key Acme CRM is revoked.');
    expect(screen.getByRole('row', { name: /Acme CRM/ }).textContent).toContain('Revoked');
  });
});
