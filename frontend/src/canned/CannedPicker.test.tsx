import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Composer } from '../interaction/Composer';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { message } from '../testing/fixtures';
import { insertResponse, slashQueryAt } from './slash';

let backend: FakeBackend | undefined;

afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

const responses = [
  { __typename: 'CannedResponse', id: 'c-1', title: 'Refund timeline', text: 'Refunds reach your card within 5 working days.' },
  { __typename: 'CannedResponse', id: 'c-2', title: 'Refund policy', text: 'You can return anything within 30 days.' },
];

function renderComposer(interactionId: string) {
  backend = fakeBackend({
    CannedResponses: ({ search }) => ({
      cannedResponses: responses.filter(
        (r) => !search || r.title.toLowerCase().includes(String(search).toLowerCase()),
      ),
    }),
    SendMessage: ({ input }) => {
      const { text } = input as { text: string };
      return {
        sendMessage: {
          __typename: 'SendMessagePayload',
          message: message({ id: 'm-9', interactionId, from: 'AGENT', text }),
          userErrors: [],
        },
      };
    },
  });
  render(
    <Provider value={backend.client}>
      <Composer interactionId={interactionId} state="ACTIVE" planId="plan-support" />
    </Provider>,
  );
  return screen.getByRole('textbox', { name: 'Reply' }) as HTMLTextAreaElement;
}

describe('slash queries', () => {
  it('start at the beginning or after whitespace, up to the caret', () => {
    expect(slashQueryAt('/ref', 4)).toEqual({ start: 0, end: 4, query: 'ref' });
    expect(slashQueryAt('Hi /refund time', 15)).toEqual({ start: 3, end: 15, query: 'refund time' });
    expect(slashQueryAt('Hi\n/', 4)).toEqual({ start: 3, end: 4, query: '' });
    expect(slashQueryAt('and/or', 6)).toBeNull();
    expect(slashQueryAt('see https://x.example/a', 23)).toBeNull();
    expect(slashQueryAt('/ ', 2)).toBeNull();
    expect(slashQueryAt('/ref\nmore', 9)).toBeNull();
  });

  it('insert the response in place of the query, caret after it', () => {
    expect(insertResponse('Hi /ref thanks', { start: 3, end: 7 }, 'Sure.')).toEqual({
      text: 'Hi Sure. thanks',
      caret: 8,
    });
  });
});

describe('canned responses in the composer', () => {
  it('/ opens the plan’s responses, searched by what follows; arrows and Enter insert one', async () => {
    const box = renderComposer('i-canned-1');
    await userEvent.type(box, 'Hello! /refund');

    const list = await screen.findByRole('listbox', { name: 'Canned responses' });
    // Debounced: the search goes out once typing pauses (the bare slash lists them all), with
    // the interaction's plan; nothing is asked for each letter.
    const searches = () =>
      backend!.calls.filter((c) => c.operationName === 'CannedResponses').map((c) => c.variables);
    await vi.waitFor(() => expect(searches()).toContainEqual({ search: 'refund', planId: 'plan-support' }));
    expect(searches().every((v) => v.search === null || v.search === 'refund')).toBe(true);
    await vi.waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(2));
    expect(box.getAttribute('aria-controls')).toBe(list.id);

    await userEvent.keyboard('{ArrowDown}');
    await vi.waitFor(() => expect(box.getAttribute('aria-activedescendant')).toBeTruthy());
    const active = document.getElementById(box.getAttribute('aria-activedescendant')!)!;
    expect(active.textContent).toContain('Refund');
    await userEvent.keyboard('{ArrowDown}');
    await vi.waitFor(() =>
      expect(document.getElementById(box.getAttribute('aria-activedescendant')!)?.textContent).toContain('Refund policy'),
    );

    await userEvent.keyboard('{Enter}');
    await vi.waitFor(() => expect(box.value).toBe('Hello! You can return anything within 30 days.'));
    expect(screen.queryByRole('listbox')).toBeNull();
    // Inserting sent nothing; the next Enter sends the text.
    expect(backend!.names()).not.toContain('SendMessage');
    await act(async () => {
      await new Promise((resolve) => requestAnimationFrame(resolve));
    });
    await userEvent.keyboard('{Enter}');
    await vi.waitFor(() => expect(backend!.names()).toContain('SendMessage'));
    expect(backend!.calls.find((c) => c.operationName === 'SendMessage')!.variables).toEqual({
      input: { interactionId: 'i-canned-1', text: 'Hello! You can return anything within 30 days.' },
    });
  });

  it('Enter before choosing inserts the first match; with no match it sends nothing', async () => {
    const box = renderComposer('i-canned-4');
    await userEvent.type(box, '/timeline');
    await screen.findByRole('option', { name: /Refund timeline/ });
    await vi.waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(1));
    await userEvent.keyboard('{Enter}');
    await vi.waitFor(() => expect(box.value).toBe('Refunds reach your card within 5 working days.'));

    await userEvent.type(box, ' /nothing');
    await vi.waitFor(() => expect(screen.getByText('No canned response matches “nothing”.')).toBeTruthy());
    await userEvent.keyboard('{Enter}');
    expect(backend!.names()).not.toContain('SendMessage');
    expect(box.value).toBe('Refunds reach your card within 5 working days. /nothing');
  });

  it('a click inserts a response too', async () => {
    const box = renderComposer('i-canned-2');
    await userEvent.type(box, '/');
    const option = await screen.findByRole('option', { name: /Refund timeline/ });
    await userEvent.click(option);
    await vi.waitFor(() => expect(box.value).toBe('Refunds reach your card within 5 working days.'));
  });

  it('Escape closes the list and leaves the text as typed; a slash in a word opens nothing', async () => {
    const box = renderComposer('i-canned-3');
    await userEvent.type(box, '/refund');
    await screen.findByRole('listbox', { name: 'Canned responses' });
    await userEvent.keyboard('{Escape}');
    await vi.waitFor(() => expect(screen.queryByRole('listbox')).toBeNull());
    expect(box.value).toBe('/refund');
    // Typing on keeps it closed; Enter then sends the text as it is.
    await userEvent.type(box, ' x');
    expect(screen.queryByRole('listbox')).toBeNull();

    await userEvent.clear(box);
    await userEvent.type(box, 'and/or');
    expect(screen.queryByRole('listbox')).toBeNull();
  });
});
