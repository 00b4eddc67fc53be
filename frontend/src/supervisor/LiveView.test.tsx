import { act, render, screen, within } from '@testing-library/react';
import { Provider } from 'urql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionProvider } from '../connection/ConnectionContext';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { serverSends } from '../testing/fakeSocket';
import { LiveView } from './LiveView';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

let backend: FakeBackend | undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  backend?.dispose();
  backend = undefined;
  vi.useRealTimers();
});

function plan(id: string, name: string) {
  return { __typename: 'InteractionPlan', id, name };
}

function stats(p: ReturnType<typeof plan>, figures: Partial<Record<string, unknown>> = {}) {
  return {
    __typename: 'QueueStats',
    plan: p,
    waiting: 0,
    oldestWaitingSince: null,
    offered: 0,
    active: 0,
    parked: 0,
    wrap: 0,
    agentsReady: 0,
    agentsNotReady: 0,
    completedToday: 0,
    medianHandleSecondsToday: null,
    ...figures,
  };
}

function agent(id: string, name: string, overrides: Partial<Record<string, unknown>> = {}) {
  return {
    __typename: 'Agent',
    id,
    username: id,
    name,
    role: 'AGENT',
    disabled: false,
    presence: 'NOT_READY',
    presenceSince: ago(0),
    capacity: [{ __typename: 'ChannelCapacity', channel: 'WEBCHAT', max: 2, used: 0 }],
    currentInteractions: [],
    ...overrides,
  };
}

function page(agents: ReturnType<typeof agent>[], { totalCount = agents.length, endCursor = null as string | null } = {}) {
  return {
    agents: {
      __typename: 'AgentConnection',
      totalCount,
      pageInfo: { __typename: 'PageInfo', hasNextPage: endCursor !== null, endCursor },
      edges: agents.map((node) => ({ __typename: 'AgentEdge', cursor: `c-${node.id}`, node })),
    },
  };
}

const support = plan('plan-support', 'Support');
const sales = plan('plan-sales', 'Sales');
const alice = agent('alice', 'Alice Martin');

function renderLiveView(b: FakeBackend) {
  render(
    <Provider value={b.client}>
      <ConnectionProvider connection={b.connection}>
        <LiveView />
      </ConnectionProvider>
    </Provider>,
  );
}

function cell(row: HTMLElement, col: string) {
  return row.querySelector<HTMLElement>(`[data-col="${col}"]`)!;
}

/** What a cell shows on screen (the clocks' words for screen readers left out). */
function shown(row: HTMLElement, col: string) {
  const c = cell(row, col).cloneNode(true) as HTMLElement;
  c.querySelectorAll('.visually-hidden').forEach((n) => n.remove());
  return c.textContent?.trim();
}

const queueRow = (name: string) =>
  within(screen.getByRole('table', { name: 'Queues' })).getByRole('row', { name: new RegExp(`^${name}`) });
const agentRow = (name: string) =>
  within(screen.getByRole('table', { name: 'Agents' })).getByRole('row', { name: new RegExp(`^${name}`) });

async function subscribed(b: FakeBackend) {
  await vi.waitFor(() => {
    expect(b.subscriptions('LiveQueueUpdates')).toHaveLength(1);
    expect(b.subscriptions('LiveAgentUpdates')).toHaveLength(1);
  });
}

describe('LiveView', () => {
  it('shows every plan’s queue, replaced by each queueStatsUpdates list; the oldest wait ticks', async () => {
    backend = fakeBackend({
      LiveQueues: () => ({ queueStats: [stats(support, { waiting: 1, oldestWaitingSince: ago(5), agentsNotReady: 1 })] }),
      LiveAgents: () => page([alice]),
    });
    renderLiveView(backend);
    await screen.findByRole('row', { name: /^Support/ });
    await vi.waitFor(() => expect(shown(queueRow('Support'), 'oldest')).toBe('0:05'));
    let row = queueRow('Support');
    expect(shown(row, 'waiting')).toBe('1');
    expect(cell(row, 'oldest').textContent).toContain('5 s');
    expect(shown(row, 'not-ready')).toBe('1');
    expect(shown(row, 'median')).toBe('–');

    act(() => vi.advanceTimersByTime(3000));
    expect(shown(queueRow('Support'), 'oldest')).toBe('0:08');

    await subscribed(backend);
    act(() =>
      backend!.emit('LiveQueueUpdates', {
        queueStatsUpdates: [
          stats(support, { active: 1, agentsReady: 1, completedToday: 3, medianHandleSecondsToday: 185 }),
          stats(sales, { waiting: 2, oldestWaitingSince: ago(70) }),
        ],
      }),
    );
    await vi.waitFor(() => expect(shown(queueRow('Support'), 'waiting')).toBe('0'));
    row = queueRow('Support');
    expect(shown(row, 'oldest')).toBe('–');
    expect(shown(row, 'active')).toBe('1');
    expect(shown(row, 'ready')).toBe('1');
    expect(shown(row, 'completed')).toBe('3');
    expect(shown(row, 'median')).toBe('3:05');
    expect(shown(queueRow('Sales'), 'oldest')).toBe('1:13'); // 70 s ago, 3 s on
    expect(screen.getByRole('status').textContent).toContain('Live');

    // The whole list each time: a plan no longer in it goes.
    act(() => backend!.emit('LiveQueueUpdates', { queueStatsUpdates: [stats(sales, { waiting: 1, oldestWaitingSince: ago(70) })] }));
    await vi.waitFor(() => expect(screen.queryByRole('row', { name: /^Support/ })).toBeNull());
    expect(shown(queueRow('Sales'), 'waiting')).toBe('1');
    // Nothing polls: the queues were asked for at first, and again once the socket was up.
    expect(backend.names().filter((n) => n === 'LiveQueues').length).toBeLessThanOrEqual(2);
  });

  it('merges agentUpdates into the list: presence and for how long, load per channel, current interactions', async () => {
    backend = fakeBackend({
      LiveQueues: () => ({ queueStats: [] }),
      LiveAgents: () => page([alice, agent('bob', 'Bob Okafor')]),
    });
    renderLiveView(backend);
    await screen.findByRole('row', { name: /^Alice Martin/ });
    await vi.waitFor(() => expect(shown(agentRow('Alice Martin'), 'presence')).toBe('Not Ready for 0:00'));
    expect(cell(agentRow('Alice Martin'), 'load').textContent).toContain('Chat: 0 of 2 in use');
    expect(shown(agentRow('Alice Martin'), 'interactions')).toBe('None');

    await subscribed(backend);
    await vi.waitFor(() => expect(backend!.connection.status()).toBe('connected'));
    // Once the socket is up both lists are fetched again (what changed before the subscriptions
    // started); after that an update of a listed agent fetches nothing.
    await vi.waitFor(() => expect(backend!.names().filter((n) => n === 'LiveAgents')).toHaveLength(2));
    const fetchedBefore = backend.names().length;
    act(() =>
      backend!.emit('LiveAgentUpdates', {
        agentUpdates: agent('alice', 'Alice Martin', {
          presence: 'READY',
          presenceSince: ago(0),
          capacity: [{ __typename: 'ChannelCapacity', channel: 'WEBCHAT', max: 2, used: 1 }],
          currentInteractions: [
            {
              __typename: 'Interaction',
              id: 'i-1',
              channel: 'WEBCHAT',
              state: 'ACTIVE',
              contact: { __typename: 'Contact', address: 'visitor-1', name: 'Sam Visitor' },
            },
          ],
        }),
      }),
    );
    await vi.waitFor(() => expect(shown(agentRow('Alice Martin'), 'presence')).toBe('Ready for 0:00'));
    const row = agentRow('Alice Martin');
    expect(cell(row, 'load').textContent).toContain('Chat: 1 of 2 in use');
    const held = within(row).getByRole('list', { name: 'Alice Martin’s interactions' });
    expect(within(held).getByRole('listitem').textContent).toMatch(/Chat.*Sam Visitor.*Active/);
    // Bob is untouched, and the list was not fetched again for a known agent.
    expect(shown(agentRow('Bob Okafor'), 'presence')).toBe('Not Ready for 0:00');
    expect(backend.names().slice(fetchedBefore)).not.toContain('LiveAgents');

    // The presence clock runs.
    act(() => vi.advanceTimersByTime(65_000));
    expect(shown(agentRow('Alice Martin'), 'presence')).toBe('Ready for 1:05');
    expect(cell(agentRow('Alice Martin'), 'presence').textContent).toContain('1 min 5 s');

    // An agent the list does not hold yet (created since): the list is fetched again.
    const carol = agent('carol', 'Carol Nguyen', { presence: 'READY' });
    backend.answer({ LiveAgents: () => page([alice, agent('bob', 'Bob Okafor'), carol]) });
    act(() => backend!.emit('LiveAgentUpdates', { agentUpdates: carol }));
    await screen.findByRole('row', { name: /^Carol Nguyen/ });
    expect(shown(agentRow('Carol Nguyen'), 'presence')).toMatch(/^Ready for/);
  });

  it('pages on while the list has more agents than a page', async () => {
    backend = fakeBackend({
      LiveQueues: () => ({ queueStats: [] }),
      LiveAgents: ({ after }) =>
        after === 'c-alice'
          ? page([agent('bob', 'Bob Okafor')], { totalCount: 2 })
          : page([alice], { totalCount: 2, endCursor: 'c-alice' }),
    });
    renderLiveView(backend);
    await screen.findByRole('row', { name: /^Bob Okafor/ });
    expect(agentRow('Alice Martin')).toBeTruthy();
    const asked = backend.calls.filter((c) => c.operationName === 'LiveAgents').map((c) => c.variables);
    expect(asked).toContainEqual({ first: 100, after: null });
    expect(asked).toContainEqual({ first: 100, after: 'c-alice' });
  });

  it('says it is reconnecting when a subscription fails, then subscribes again and re-queries', async () => {
    backend = fakeBackend({
      LiveQueues: () => ({ queueStats: [stats(support)] }),
      LiveAgents: () => page([alice]),
    });
    renderLiveView(backend);
    await subscribed(backend);
    act(() => backend!.emit('LiveQueueUpdates', { queueStatsUpdates: [stats(support)] }));
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('Live'));
    await vi.waitFor(() => expect(backend!.names().filter((n) => n === 'LiveAgents')).toHaveLength(2));
    const queriesBefore = backend.names().length;

    const [sub] = backend.subscriptions('LiveAgentUpdates');
    act(() => serverSends(backend!.socket(), { id: sub!.id, type: 'error', payload: [{ message: 'boom' }] }));
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/^Reconnecting…/));
    expect(screen.getByText(/^Reconnecting…/).closest('.live')!.getAttribute('aria-busy')).toBe('true');

    // After a pause it subscribes again and fetches what it may have missed.
    const subscribes = () =>
      backend!
        .socket()
        .sent.filter((m) => m.type === 'subscribe' && (m.payload as { operationName: string }).operationName === 'LiveAgentUpdates');
    await vi.waitFor(() => expect(subscribes()).toHaveLength(2), { timeout: 3000 });
    await vi.waitFor(() =>
      expect(backend!.names().slice(queriesBefore)).toEqual(expect.arrayContaining(['LiveQueues', 'LiveAgents'])),
    );
    act(() => backend!.emit('LiveAgentUpdates', { agentUpdates: { ...alice, presence: 'READY' } }));
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('Live'));
  });

  it('says it is reconnecting while the socket is down', async () => {
    backend = fakeBackend({
      LiveQueues: () => ({ queueStats: [stats(support)] }),
      LiveAgents: () => page([alice]),
    });
    renderLiveView(backend);
    await subscribed(backend);
    act(() => backend!.emit('LiveQueueUpdates', { queueStatsUpdates: [stats(support)] }));
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toBe('Live'));
    const before = backend.names().length;
    act(() => backend!.socket().close(1006, 'network gone'));
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toMatch(/^Reconnecting…/));
    // graphql-ws reopens it; once acknowledged, both lists are fetched again.
    await vi.waitFor(() => expect(backend!.names().slice(before)).toEqual(expect.arrayContaining(['LiveQueues', 'LiveAgents'])));
  });
});
