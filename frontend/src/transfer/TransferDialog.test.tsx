import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeBackend, graphQLError, type FakeBackend } from '../testing/fakeBackend';
import { interaction } from '../testing/fixtures';
import { SEARCH_DELAY_MS, TransferDialog } from './TransferDialog';

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

const agent = (id: string, name: string) => ({ __typename: 'Agent', id, name, presence: 'READY' });
const plan = (id: string, name: string, channels: string[]) => ({ __typename: 'InteractionPlan', id, name, channels });
const bob = agent('agent-bob', 'Bob Okafor');
const carol = agent('agent-carol', 'Carol Nguyen');
const plans = [
  plan('plan-sales', 'Sales', ['WEBCHAT', 'SMS']),
  plan('plan-support', 'Support', ['WEBCHAT']),
  plan('plan-voice', 'Voice line', ['VOICE']),
];

/** The server: READY agents and plans by a case-insensitive search, as the real one answers. */
function server(answers: Record<string, (variables: Record<string, unknown>) => unknown> = {}) {
  const matches = (name: string, search: unknown) => !search || name.toLowerCase().includes(String(search).toLowerCase());
  return fakeBackend({
    TransferTargets: ({ search, recentOnly }) => ({
      transferTargets: recentOnly ? [carol].filter((a) => matches(a.name, search)) : [bob, carol].filter((a) => matches(a.name, search)),
    }),
    TransferPlans: ({ search }) => ({ interactionPlans: plans.filter((p) => matches(p.name, search)) }),
    ...answers,
  });
}

function renderDialog(b: FakeBackend, ui?: ReactNode) {
  const onClose = vi.fn();
  const onTransferred = vi.fn();
  render(
    <Provider value={b.client}>
      <button type="button">Transfer</button>
      {ui ?? (
        <TransferDialog
          interactionId="i-1"
          channel="WEBCHAT"
          contactName="Jane Doe"
          onClose={onClose}
          onTransferred={onTransferred}
        />
      )}
    </Provider>,
  );
  return { onClose, onTransferred, dialog: screen.getByRole('dialog', { name: 'Transfer the chat with Jane Doe' }) };
}

const transferred = (state: string) => ({
  transferInteraction: {
    __typename: 'InteractionPayload',
    interaction: interaction({ id: 'i-1', state: state as never }),
    userErrors: [],
  },
});

describe('TransferDialog', () => {
  it('T2: lists READY agents with their presence and the plans that take the channel; the search goes to both', async () => {
    backend = server();
    const { dialog } = renderDialog(backend);
    expect(document.activeElement).toBe(within(dialog).getByRole('searchbox', { name: 'Search agents and plans' }));

    const agents = await within(dialog).findByRole('region', { name: 'Agents' });
    expect(within(agents).getAllByRole('listitem').map((row) => row.textContent)).toEqual([
      'Bob OkaforReadyTransfer',
      'Carol NguyenReadyTransfer',
    ]);
    const planRows = within(dialog).getByRole('region', { name: 'Plans' });
    // Voice line does not take chats.
    expect(within(planRows).getAllByRole('listitem').map((row) => row.firstChild!.textContent)).toEqual(['Sales', 'Support']);

    await userEvent.type(within(dialog).getByRole('searchbox'), 'sup');
    await vi.waitFor(() => expect(within(dialog).queryByRole('region', { name: 'Agents' })).toBeNull());
    expect(within(dialog).getByRole('button', { name: 'Transfer to the Support queue' })).toBeTruthy();
    expect(within(dialog).queryByRole('button', { name: 'Transfer to the Sales queue' })).toBeNull();
    const searched = backend.calls.filter((c) => c.variables.search === 'sup').map((c) => c.operationName);
    expect(searched.sort()).toEqual(['TransferPlans', 'TransferTargets']);
  });

  it('waits for a pause in typing before it searches', async () => {
    backend = server();
    const { dialog } = renderDialog(backend);
    await within(dialog).findByRole('button', { name: 'Transfer to Bob Okafor' });
    // Typed in one go (well under the delay): only the whole word is searched, once per list.
    await userEvent.type(within(dialog).getByRole('searchbox'), 'car');
    expect(backend.calls.filter((c) => c.variables.search)).toEqual([]);
    await within(dialog).findByRole('button', { name: 'Transfer to Carol Nguyen' });
    await vi.waitFor(() => expect(within(dialog).queryByRole('button', { name: 'Transfer to Bob Okafor' })).toBeNull());
    await new Promise((resolve) => setTimeout(resolve, SEARCH_DELAY_MS * 2));
    expect(backend.calls.filter((c) => c.variables.search).map((c) => `${c.operationName} ${c.variables.search}`).sort()).toEqual([
      'TransferPlans car',
      'TransferTargets car',
    ]);
  });

  it('T2: "Recent agents" asks for recentOnly and shows no plans; "Plans" shows only plans', async () => {
    backend = server();
    const { dialog } = renderDialog(backend);
    await within(dialog).findByRole('button', { name: 'Transfer to Bob Okafor' });

    await userEvent.click(within(dialog).getByRole('radio', { name: 'Recent agents' }));
    const recent = await within(dialog).findByRole('region', { name: 'Recent agents' });
    expect(within(recent).getAllByRole('listitem')).toHaveLength(1);
    expect(within(recent).getByRole('button', { name: 'Transfer to Carol Nguyen' })).toBeTruthy();
    expect(within(dialog).queryByRole('region', { name: 'Plans' })).toBeNull();
    expect(backend.calls.some((c) => c.operationName === 'TransferTargets' && c.variables.recentOnly === true)).toBe(true);

    await userEvent.click(within(dialog).getByRole('radio', { name: 'Plans' }));
    await within(dialog).findByRole('region', { name: 'Plans' });
    expect(within(dialog).queryByRole('button', { name: /Transfer to (Bob|Carol)/ })).toBeNull();
  });

  it('says so when nothing matches', async () => {
    backend = server({ TransferTargets: () => ({ transferTargets: [] }) });
    const { dialog } = renderDialog(backend);
    await userEvent.click(within(dialog).getByRole('radio', { name: 'Recent agents' }));
    expect(await within(dialog).findByText('No recently contacted agent is Ready right now.')).toBeTruthy();
  });

  it('T1: Transfer sends the agent or the plan as the one target and reports where it went', async () => {
    backend = server({
      TransferInteraction: ({ input }) => transferred((input as { toPlanId?: string }).toPlanId ? 'QUEUED' : 'ACTIVE'),
    });
    const { dialog, onTransferred } = renderDialog(backend);
    await userEvent.click(await within(dialog).findByRole('button', { name: 'Transfer to Bob Okafor' }));
    await vi.waitFor(() => expect(onTransferred).toHaveBeenCalledWith({ kind: 'agent', name: 'Bob Okafor' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Transfer to the Sales queue' }));
    await vi.waitFor(() => expect(onTransferred).toHaveBeenCalledWith({ kind: 'plan', name: 'Sales' }));
    expect(backend.calls.filter((c) => c.operationName === 'TransferInteraction').map((c) => c.variables)).toEqual([
      { input: { interactionId: 'i-1', toAgentId: 'agent-bob' } },
      { input: { interactionId: 'i-1', toPlanId: 'plan-sales' } },
    ]);
  });

  it('shows a refusal in the dialog, and asks again who is READY when the agent no longer is', async () => {
    let ready = [bob, carol];
    backend = server({
      TransferTargets: () => ({ transferTargets: ready }),
      TransferInteraction: () => ({
        transferInteraction: {
          __typename: 'InteractionPayload',
          interaction: null,
          userErrors: [{ __typename: 'UserError', code: 'TARGET_UNAVAILABLE', message: 'Bob Okafor has no free webchat capacity' }],
        },
      }),
    });
    const { dialog, onTransferred } = renderDialog(backend);
    const toBob = await within(dialog).findByRole('button', { name: 'Transfer to Bob Okafor' });
    ready = [carol];
    await userEvent.click(toBob);

    expect((await within(dialog).findByRole('alert')).textContent).toBe('Bob Okafor has no free webchat capacity');
    await vi.waitFor(() => expect(within(dialog).queryByRole('button', { name: 'Transfer to Bob Okafor' })).toBeNull());
    expect(onTransferred).not.toHaveBeenCalled();
  });

  it('shows the message of a refusal that comes as a GraphQL error (NOT_FOUND, FORBIDDEN)', async () => {
    backend = server({ TransferInteraction: () => graphQLError('NOT_FOUND', 'no interaction plan has this ID') });
    const { dialog, onTransferred } = renderDialog(backend);
    await userEvent.click(await within(dialog).findByRole('button', { name: 'Transfer to the Support queue' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe('no interaction plan has this ID');
    expect(onTransferred).not.toHaveBeenCalled();
  });

  it('is a modal: Tab stays inside, Escape and Cancel close it, and focus goes back', async () => {
    backend = server();
    const opener = document.createElement('button');
    document.body.append(opener);
    opener.focus();
    const { dialog, onClose } = renderDialog(backend);
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    // The rest of the page is inert while it is open.
    expect(opener.hasAttribute('inert')).toBe(true);
    await within(dialog).findByRole('button', { name: 'Transfer to Carol Nguyen' });

    const user = userEvent.setup();
    const search = within(dialog).getByRole('searchbox');
    const cancel = within(dialog).getByRole('button', { name: 'Cancel' });
    cancel.focus();
    await user.tab();
    expect(document.activeElement).toBe(search);
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(cancel);

    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledTimes(1);
    await user.click(cancel);
    expect(onClose).toHaveBeenCalledTimes(2);
    opener.remove();
  });

  it('gives focus back to what opened it, and lifts the inert page, when it closes', async () => {
    backend = server();
    const outside = document.createElement('div');
    document.body.append(outside);
    const opener = document.createElement('button');
    outside.append(opener);
    opener.focus();
    const { unmount } = render(
      <Provider value={backend.client}>
        <TransferDialog interactionId="i-1" channel="SMS" contactName="+44 7700 900123" onClose={() => {}} onTransferred={() => {}} />
      </Provider>,
    );
    expect(screen.getByRole('dialog', { name: 'Transfer the chat with +44 7700 900123' })).toBeTruthy();
    expect(outside.hasAttribute('inert')).toBe(true);
    unmount();
    expect(outside.hasAttribute('inert')).toBe(false);
    // react-aria gives focus back on the next animation frame.
    await vi.waitFor(() => expect(document.activeElement).toBe(opener));
    outside.remove();
  });
});
