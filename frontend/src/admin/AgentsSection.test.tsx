import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { AgentsSection } from './AgentsSection';

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

/** A page of agents named `${name} i`, `total` in all, with a cursor after them when more follow. */
function agentsPage(name: string, n: number, total: number, endCursor: string | null) {
  return {
    agents: {
      __typename: 'AgentConnection',
      totalCount: total,
      pageInfo: { __typename: 'PageInfo', hasNextPage: endCursor !== null, endCursor },
      edges: Array.from({ length: n }, (_, i) => ({
        __typename: 'AgentEdge',
        cursor: `${name}-${i}`,
        node: { __typename: 'Agent', id: `${name}-${i}`, username: `${name}${i}`, name: `${name} ${i}`, role: 'AGENT', disabled: false, plans: [] },
      })),
    },
  };
}

describe('AgentsSection', () => {
  it("shows neither the last search's agents nor its pager while a new search loads", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    backend = fakeBackend({
      AdminAgents: async (v) => {
        if (v.search === null) return agentsPage('everyone', 20, 45, 'after-everyone');
        if (v.after === null) {
          await held;
          return agentsPage('temp', 20, 21, 'after-temp');
        }
        return agentsPage('last temp', 1, 21, null);
      },
    });
    render(
      <Provider value={backend.client}>
        <AgentsSection rest={[]} />
      </Provider>,
    );
    const user = userEvent.setup();
    await screen.findByRole('cell', { name: 'everyone 19' });
    expect(screen.getByRole('status').textContent).toBe('1–20 of 45');

    await user.type(screen.getByRole('searchbox', { name: 'Search agents' }), 'temp');
    await screen.findByText('Loading…');
    expect(screen.queryByRole('cell', { name: 'everyone 19' })).toBeNull();
    expect(screen.getByRole('status').textContent).toBe('');
    expect((screen.getByRole('button', { name: 'Next page' }) as HTMLButtonElement).disabled).toBe(true);

    release();
    await screen.findByRole('cell', { name: 'temp 19' });
    expect(screen.getByRole('status').textContent).toBe('1–20 of 21');
    await user.click(screen.getByRole('button', { name: 'Next page' }));
    await screen.findByRole('cell', { name: 'last temp 0' });
    expect(screen.getByRole('status').textContent).toBe('21–21 of 21');
    const later = backend.calls.filter((c) => c.operationName === 'AdminAgents' && c.variables.after !== null);
    expect(later.map((c) => c.variables)).toEqual([{ search: 'temp', first: 20, after: 'after-temp' }]);
    expect(within(screen.getByRole('table', { name: 'Agents' })).getAllByRole('row')).toHaveLength(2);
  });
});
