import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, serverSends } from '../testing/fakeSocket';
import { describeSubscriptionError, Playground } from './Playground';
import { printTypeRef } from './SchemaPanel';

let requests: { body: { query: string; operationName?: string }; headers: Headers }[];

beforeEach(() => {
  requests = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      const body = JSON.parse(init.body as string);
      requests.push({ body, headers: new Headers(init.headers) });
      if (body.query.includes('__schema')) {
        return Response.json({
          data: {
            __schema: {
              queryType: {
                name: 'Query',
                fields: [
                  {
                    name: 'me',
                    description: 'The signed-in agent.',
                    args: [],
                    type: { kind: 'OBJECT', name: 'Agent', ofType: null },
                  },
                ],
              },
              mutationType: null,
              subscriptionType: null,
            },
          },
        });
      }
      return Response.json({ data: { me: { name: 'Alice Martin' } } });
    }),
  );
  vi.stubGlobal('WebSocket', FakeSocket);
});

afterEach(() => {
  FakeSocket.instances = [];
});

async function typeIn(label: string, text: string) {
  const editor = screen.getByLabelText(label);
  await userEvent.clear(editor);
  await userEvent.type(editor, text.replace(/[{[]/g, (c) => c + c));
}

async function typeQuery(text: string) {
  const editor = screen.getByLabelText('Operation');
  await userEvent.clear(editor);
  // user-event treats { and [ as key descriptors; doubling escapes them.
  await userEvent.type(editor, text.replace(/[{[]/g, (c) => c + c));
  return editor;
}

describe('Playground', () => {
  it('runs a query with Ctrl+Enter and shows the JSON result', async () => {
    render(<Playground />);
    const editor = await typeQuery('{ me { name } }');
    const headers = screen.getByLabelText('Headers (JSON)');
    await userEvent.clear(headers);
    await userEvent.type(headers, '{{"Authorization": "Bearer tok"}');

    editor.focus();
    await userEvent.keyboard('{Control>}{Enter}{/Control}');

    const result = await screen.findByTestId('result');
    expect(JSON.parse(result.textContent!)).toEqual({ data: { me: { name: 'Alice Martin' } } });
    const run = requests.find((r) => r.body.query === '{ me { name } }')!;
    expect(run.headers.get('Authorization')).toBe('Bearer tok');
    expect(screen.getByText(/^HTTP 200 · \d+ ms$/)).toBeTruthy();
  });

  it('persists the editors in localStorage', async () => {
    const { unmount } = render(<Playground />);
    await typeQuery('mutation { logout }');
    unmount();
    render(<Playground />);
    expect((screen.getByLabelText('Operation') as HTMLTextAreaElement).value).toBe(
      'mutation { logout }',
    );
    expect(screen.getByRole('button', { name: /Run mutation/ })).toBeTruthy();
  });

  it('does not store a pasted token or password unless asked to remember it', async () => {
    const { unmount } = render(<Playground />);
    await typeIn('Headers (JSON)', '{"Authorization": "Bearer pasted-secret", "X-Trace": "1"}');
    await typeIn('Variables (JSON)', '{"input": {"username": "alice", "password": "demo"}}');
    expect((screen.getByLabelText('Remember on this device') as HTMLInputElement).checked).toBe(false);

    const stored = JSON.stringify({ ...window.localStorage });
    expect(stored).not.toContain('pasted-secret');
    expect(stored).not.toContain('demo');
    unmount();
    render(<Playground />);
    expect(JSON.parse((screen.getByLabelText('Headers (JSON)') as HTMLTextAreaElement).value)).toEqual({
      Authorization: 'Bearer ',
      'X-Trace': '1',
    });
    expect(JSON.parse((screen.getByLabelText('Variables (JSON)') as HTMLTextAreaElement).value)).toEqual({
      input: { username: 'alice', password: '' },
    });
  });

  it('stores credentials when "Remember on this device" is ticked, and forgets them when unticked', async () => {
    const { unmount } = render(<Playground />);
    await userEvent.click(screen.getByLabelText('Remember on this device'));
    await typeIn('Headers (JSON)', '{"Authorization": "Bearer kept-token"}');
    unmount();
    render(<Playground />);
    expect((screen.getByLabelText('Headers (JSON)') as HTMLTextAreaElement).value).toContain('kept-token');

    await userEvent.click(screen.getByLabelText('Remember on this device'));
    expect(JSON.stringify({ ...window.localStorage })).not.toContain('kept-token');
  });

  it('removes a key an older version stored, on load', () => {
    window.localStorage.setItem('agentdesk.playground.headers', '{"Authorization": "Bearer old-secret", "X-Api-Key": "adk_old"}');
    render(<Playground />);
    expect((screen.getByLabelText('Headers (JSON)') as HTMLTextAreaElement).value).not.toContain('old-secret');
    expect(JSON.stringify({ ...window.localStorage })).not.toMatch(/old-secret|adk_old/);
  });

  it('keeps a stored key on load when the user chose to remember it', () => {
    window.localStorage.setItem('agentdesk.playground.rememberCredentials', 'true');
    window.localStorage.setItem('agentdesk.playground.headers', '{"Authorization": "Bearer remembered"}');
    render(<Playground />);
    expect((screen.getByLabelText('Headers (JSON)') as HTMLTextAreaElement).value).toContain('remembered');
  });

  it('refuses to send headers that are not a JSON object of strings', async () => {
    render(<Playground />);
    const headers = screen.getByLabelText('Headers (JSON)');
    await userEvent.clear(headers);
    await userEvent.type(headers, '{{"X": 1}');
    const before = requests.length;

    await userEvent.click(screen.getByRole('button', { name: /Run/ }));

    expect((await screen.findByRole('alert')).textContent).toBe('Header "X" must be a string.');
    expect(requests.length).toBe(before);
  });

  it('runs a subscription over the websocket until stopped', async () => {
    render(<Playground />);
    await typeQuery('subscription { offers { kind } }');

    await userEvent.click(screen.getByRole('button', { name: 'Run subscription' }));

    await vi.waitFor(() => expect(FakeSocket.instances[0]?.sent[0]).toBeDefined());
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toBe(`ws://${window.location.host}/query`);
    serverSends(socket, { type: 'connection_ack' });
    await vi.waitFor(() => expect(socket.sent[1]?.type).toBe('subscribe'));
    expect(await screen.findByText('Connected: listening for events')).toBeTruthy();

    serverSends(socket, {
      type: 'next',
      id: socket.sent[1]!.id,
      payload: { data: { offers: { kind: 'OFFERED' } } },
    });
    expect(await screen.findByText(/"OFFERED"/)).toBeTruthy();

    await userEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect(await screen.findByText('Stopped · 1 event(s)')).toBeTruthy();
    expect(socket.sent.at(-1)?.type).toBe('complete');
  });

  it('lists root fields from introspection', async () => {
    render(<Playground />);
    const panel = await screen.findByRole('complementary', { name: 'Schema' });
    expect(await within(panel).findByText('me')).toBeTruthy();
    expect(within(panel).getByText('Agent')).toBeTruthy();
  });
});

describe('describeSubscriptionError', () => {
  it('describes close events, GraphQL errors and exceptions', () => {
    expect(describeSubscriptionError({ code: 4403, reason: 'Forbidden' })).toBe(
      'Connection closed: 4403 Forbidden',
    );
    expect(JSON.parse(describeSubscriptionError([{ message: 'no' }]))).toEqual({
      errors: [{ message: 'no' }],
    });
    expect(describeSubscriptionError(new Error('boom'))).toBe('boom');
  });
});

describe('printTypeRef', () => {
  it('prints SDL type references', () => {
    expect(
      printTypeRef({
        kind: 'NON_NULL',
        name: null,
        ofType: {
          kind: 'LIST',
          name: null,
          ofType: { kind: 'NON_NULL', name: null, ofType: { kind: 'ENUM', name: 'Channel' } },
        },
      }),
    ).toBe('[Channel!]!');
  });
});
