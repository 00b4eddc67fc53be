import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenStore } from '../auth/tokenStore';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { Shell } from './Shell';

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
  window.location.hash = '';
});

const me = (role: 'AGENT' | 'SUPERVISOR') => ({
  __typename: 'Agent',
  id: 'A1',
  name: 'Ada Admin',
  role,
  presence: 'NOT_READY',
  presenceSince: '2026-11-21T12:00:00Z',
  capacity: [{ __typename: 'ChannelCapacity', channel: 'WEBCHAT', max: 4, used: 0 }],
});

function renderShell(role: 'AGENT' | 'SUPERVISOR') {
  backend = fakeBackend({
    Shell: () => ({ me: me(role) }),
    MyInteractions: () => ({ myInteractions: [] }),
    AdminAgents: () => ({
      agents: {
        __typename: 'AgentConnection',
        totalCount: 0,
        pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null },
        edges: [],
      },
    }),
  });
  render(
    <Provider value={backend.client}>
      <Shell tokens={createTokenStore(window.localStorage)} />
    </Provider>,
  );
}

describe('Shell: the admin area', () => {
  it('agents see no Admin entry, and #/admin shows them the desk', async () => {
    window.location.hash = '#/admin/agents';
    renderShell('AGENT');
    await screen.findByRole('navigation', { name: 'Conversation log' });
    expect(screen.queryByRole('navigation', { name: 'Screens' })).toBeNull();
    expect(screen.queryByRole('tablist', { name: 'Administration' })).toBeNull();
    expect(backend!.names()).not.toContain('AdminAgents');
  });

  it('supervisors switch between Desk and Admin; the desk stays behind, hidden', async () => {
    renderShell('SUPERVISOR');
    const areas = await screen.findByRole('navigation', { name: 'Screens' });
    const user = userEvent.setup();
    expect(screen.getByRole('link', { name: 'Desk' }).getAttribute('aria-current')).toBe('page');
    await user.click(screen.getByRole('link', { name: 'Admin' }));
    const tabs = await screen.findByRole('tablist', { name: 'Administration' });
    expect(tabs.textContent).toBe('AgentsPlansAPI keysWebhooksCanned responsesAudit log');
    expect(screen.getByRole('tab', { name: 'Agents' }).getAttribute('aria-selected')).toBe('true');
    expect(areas.querySelector('[aria-current=page]')!.textContent).toBe('Admin');
    await screen.findByText('No agents yet.');
    expect(screen.queryByRole('navigation', { name: 'Conversation log' })).toBeNull();
    await user.click(screen.getByRole('link', { name: 'Desk' }));
    await screen.findByRole('navigation', { name: 'Conversation log' });
    expect(screen.queryByRole('tablist', { name: 'Administration' })).toBeNull();
  });
});
