// The widget in happy-dom against a fake agentdesk: HTTP GraphQL through a fake fetch and the
// websocket through FakeSocket, the test playing the server.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, serverSends } from '../src/testing/fakeSocket';
import type { ChatMessage } from './messages';
import { mountWidget } from './ui';
import type { WsOptions } from './ws';

const SERVER = 'https://desk.test';
const KEY = 'agentdesk-webchat:https://desk.test:plan-7';

function fakeServer() {
  const server = {
    token: 'tok-1',
    known: true,
    chat: { id: 'chat-1', state: 'QUEUED', agentName: null as string | null, endedBy: null as string | null },
    messages: [] as ChatMessage[],
    rateLimited: false,
    /** How many myChat requests to refuse as too fast. */
    myChatLimited: 0,
    calls: [] as { query: string; variables: Record<string, unknown>; auth?: string }[],
    clock: 0,
    say(from: ChatMessage['from'], text: string) {
      const message = { id: `m${server.messages.length + 1}`, from, text, sentAt: `2025-06-01T10:00:${String(++server.clock).padStart(2, '0')}Z` };
      server.messages.push(message);
      return message;
    },
    ops: (name: string) => server.calls.filter((c) => c.query.includes(name)),
  };
  const chat = () => ({
    ...server.chat,
    messages: { edges: server.messages.map((node) => ({ node })), pageInfo: { hasNextPage: false, endCursor: null } },
  });
  const answer = (query: string, variables: Record<string, unknown>, auth?: string): unknown => {
    const authorised = server.known && auth === `Bearer ${server.token}`;
    if (query.includes('startWebchat')) {
      const { text } = variables.input as { text: string };
      if (!text.trim()) return { data: { startWebchat: { token: null, chat: null, userErrors: [{ code: 'INVALID', message: 'Type a message.' }] } } };
      server.say('CONTACT', text);
      return { data: { startWebchat: { token: server.token, chat: chat(), userErrors: [] } } };
    }
    if (!authorised) return { data: null, errors: [{ message: 'Sign in first.', extensions: { code: 'UNAUTHENTICATED' } }] };
    if (query.includes('myChat')) {
      if (server.myChatLimited-- > 0) {
        return { data: null, errors: [{ message: 'Too fast.', extensions: { code: 'RATE_LIMITED' } }] };
      }
      return { data: { myChat: chat() } };
    }
    if (query.includes('sendContactMessage')) {
      if (server.rateLimited) {
        return { data: null, errors: [{ message: 'You are sending messages too fast; wait a moment.', extensions: { code: 'RATE_LIMITED' } }] };
      }
      const { text } = variables.input as { text: string };
      return { data: { sendContactMessage: { message: server.say('CONTACT', text), userErrors: [] } } };
    }
    if (query.includes('endWebchat')) {
      server.chat = { ...server.chat, state: 'WRAP', endedBy: 'CONTACT' };
      server.say('SYSTEM', 'The chat has ended');
      return { data: { endWebchat: { chat: chat(), userErrors: [] } } };
    }
    throw new Error(`unexpected ${query}`);
  };
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    expect(url).toBe(`${SERVER}/query`);
    const { query, variables } = JSON.parse(init.body as string);
    const auth = (init.headers as Record<string, string>).Authorization;
    server.calls.push({ query, variables, auth });
    const body = answer(query, variables, auth);
    return { json: async () => body } as Response;
  });
  return { server, fetch: fetch as unknown as typeof globalThis.fetch };
}

let root: ShadowRoot;
let fake: ReturnType<typeof fakeServer>;
let widget: ReturnType<typeof mountWidget> | undefined;

function mount() {
  const host = document.createElement('agentdesk-webchat');
  document.body.append(host);
  root = host.attachShadow({ mode: 'open' });
  widget = mountWidget({
    server: SERVER,
    planId: 'plan-7',
    title: 'Acme help',
    root,
    fetch: fake.fetch,
    WebSocket: FakeSocket as unknown as WsOptions['WebSocket'],
    retryDelay: () => 5,
  });
}

const $ = <T extends Element = HTMLElement>(selector: string) => root.querySelector(selector) as T | null;
const button = (name: string) =>
  [...root.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent)?.includes(name)) ??
  null;
const click = (name: string) => {
  const b = button(name);
  if (!b) throw new Error(`no button ${name}`);
  b.click();
};
const key = (el: Element, key: string, shiftKey = false) =>
  el.dispatchEvent(new KeyboardEvent('keydown', { key, shiftKey, bubbles: true, cancelable: true }));
const bubbles = () => [...root.querySelectorAll('.log > *')].map((el) => `${el.className}: ${el.querySelector('p')?.textContent ?? el.textContent}`);
const socket = () => FakeSocket.instances.at(-1)!;

/** Starts a chat through the form and connects the websocket. */
async function startChat(text = 'Where is my order?', mounted = false) {
  if (!mounted) {
    mount();
    click('Chat with us');
  }
  $<HTMLInputElement>('#adw-name')!.value = 'Dana';
  const first = $<HTMLTextAreaElement>('#adw-first')!;
  first.value = text;
  key(first, 'Enter');
  await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
  await vi.waitFor(() => expect(socket().sent).toHaveLength(1));
  serverSends(socket(), { type: 'connection_ack' });
  await vi.waitFor(() => expect(fake.server.ops('myChat')).toHaveLength(1));
}

beforeEach(() => {
  FakeSocket.instances = [];
  fake = fakeServer();
});
afterEach(() => {
  widget?.destroy();
  widget = undefined;
  document.body.replaceChildren();
  localStorage.clear();
  sessionStorage.clear();
});

describe('webchat widget', () => {
  it('starts a chat, keeps the token, and shows live messages from the agent', async () => {
    mount();
    const launcher = button('Chat with us')!;
    expect($('[role=dialog]')!.hidden).toBe(true);
    launcher.click();
    expect(launcher.getAttribute('aria-expanded')).toBe('true');
    expect($('[role=dialog]')!.hidden).toBe(false);
    expect($('h2')!.textContent).toBe('Acme help');
    expect(root.activeElement).toBe($('#adw-name'));

    // Enter without text says what is missing; nothing is sent.
    key($('#adw-first')!, 'Enter');
    expect($('[role=alert]')!.textContent).toMatch(/type a message/i);
    expect(fake.server.calls).toHaveLength(0);

    await startChat('Where is my order?', true);
    const start = fake.server.ops('startWebchat')[0]!;
    expect(start.auth).toBeUndefined();
    expect(start.variables.input).toEqual({ name: 'Dana', planId: 'plan-7', text: 'Where is my order?' });
    expect(localStorage.getItem(KEY)).toBe('tok-1');
    expect(bubbles()).toEqual(['msg contact: Where is my order?']);
    expect($('[role=status]')!.textContent).toBe('Waiting for an agent to join…');
    expect($('[role=log]')!.getAttribute('aria-live')).toBe('polite');

    const ws = socket();
    expect(ws.url).toBe('wss://desk.test/query');
    expect(ws.sent[0]).toEqual({ type: 'connection_init', payload: { Authorization: 'Bearer tok-1' } });
    expect(ws.sent[1]).toMatchObject({ type: 'subscribe', payload: { variables: { id: 'chat-1' } } });
    expect(fake.server.ops('myChat')[0]!.auth).toBe('Bearer tok-1');

    // A SYSTEM message is a centred notice and makes the widget re-read the chat.
    fake.server.chat = { ...fake.server.chat, state: 'ACTIVE', agentName: 'Alice Martin' };
    const joined = fake.server.say('SYSTEM', 'Alice joined the chat');
    serverSends(ws, { type: 'next', id: '1', payload: { data: { messages: joined } } });
    await vi.waitFor(() => expect($('[role=status]')!.textContent).toBe('You are chatting with Alice Martin.'));

    const reply = fake.server.say('AGENT', 'Hi Dana, let me check.');
    serverSends(ws, { type: 'next', id: '1', payload: { data: { messages: reply } } });
    serverSends(ws, { type: 'next', id: '1', payload: { data: { messages: reply } } });
    expect(bubbles()).toEqual([
      'msg contact: Where is my order?',
      'system: Alice joined the chat',
      'msg agent: Hi Dana, let me check.',
    ]);
    expect($('.agent small')!.textContent).toContain('Alice Martin');
    expect($('.contact small')!.textContent).toContain('You');
  });

  it('sends with Enter, adds a line with Shift+Enter, and shows each message once', async () => {
    await startChat();
    const input = $<HTMLTextAreaElement>('#adw-text')!;
    input.value = 'Order 1234';
    expect(key(input, 'Enter', true)).toBe(true); // not prevented: the browser adds the line
    expect(fake.server.ops('sendContactMessage')).toHaveLength(0);

    key(input, 'Enter');
    await vi.waitFor(() => expect(input.value).toBe(''));
    expect(fake.server.ops('sendContactMessage')[0]!.variables.input).toEqual({ text: 'Order 1234' });
    expect(fake.server.ops('sendContactMessage')[0]!.auth).toBe('Bearer tok-1');
    // The subscription echoes our own message: still one bubble.
    serverSends(socket(), { type: 'next', id: '1', payload: { data: { messages: fake.server.messages.at(-1) } } });
    expect(bubbles()).toEqual(['msg contact: Where is my order?', 'msg contact: Order 1234']);
    expect(root.activeElement).toBe(input);

    // Whitespace alone is not sent.
    input.value = '  ';
    key(input, 'Enter');
    expect(fake.server.ops('sendContactMessage')).toHaveLength(1);
  });

  it('keeps the typed text and says why when the visitor sends too fast', async () => {
    await startChat();
    fake.server.rateLimited = true;
    const input = $<HTMLTextAreaElement>('#adw-text')!;
    input.value = 'Hello?';
    click('Send');
    await vi.waitFor(() => expect($('[role=alert]')!.textContent).toBe('You are sending messages too fast; wait a moment.'));
    expect(input.value).toBe('Hello?');
    expect(input.readOnly).toBe(false);

    fake.server.rateLimited = false;
    click('Send');
    await vi.waitFor(() => expect(input.value).toBe(''));
    expect($('[role=alert]')!.textContent).toBe('');
  });

  it('resumes a stored chat with its whole transcript after a reload', async () => {
    fake.server.chat = { ...fake.server.chat, state: 'ACTIVE', agentName: 'Alice Martin' };
    fake.server.say('CONTACT', 'Hello');
    fake.server.say('SYSTEM', 'Alice joined the chat');
    fake.server.say('AGENT', 'Hi!');
    localStorage.setItem(KEY, 'tok-1');
    sessionStorage.setItem(`${KEY}:open`, '1');
    mount();
    expect($('[role=dialog]')!.hidden).toBe(false); // it was open before the reload
    await vi.waitFor(() => expect(bubbles()).toHaveLength(3));
    expect(bubbles()).toEqual(['msg contact: Hello', 'system: Alice joined the chat', 'msg agent: Hi!']);
    expect(fake.server.ops('myChat')[0]!.auth).toBe('Bearer tok-1');
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(1));

    // Leaving the page keeps the token for the next one.
    widget!.destroy();
    widget = undefined;
    expect(localStorage.getItem(KEY)).toBe('tok-1');
    expect(root.childNodes).toHaveLength(0);
  });

  it('reads the chat again shortly when the server says it was asked too fast', async () => {
    fake.server.say('CONTACT', 'Hello');
    fake.server.myChatLimited = 1;
    localStorage.setItem(KEY, 'tok-1');
    mount();
    await vi.waitFor(() => expect(fake.server.ops('myChat')).toHaveLength(1));
    expect(bubbles()).toEqual([]);
    await vi.waitFor(() => expect(bubbles()).toEqual(['msg contact: Hello']), { timeout: 4000 });
    expect(fake.server.ops('myChat')).toHaveLength(2);
  });

  it('forgets a token the server does not know and offers the start form', async () => {
    fake.server.known = false;
    localStorage.setItem(KEY, 'tok-1');
    mount();
    await vi.waitFor(() => expect($('#adw-first')).not.toBeNull());
    expect(localStorage.getItem(KEY)).toBeNull();
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('re-reads the chat after the socket drops, so nothing is lost or doubled', async () => {
    await startChat();
    const missed = fake.server.say('AGENT', 'Are you still there?');
    socket().close(1006);
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    await vi.waitFor(() => expect(socket().sent).toHaveLength(1));
    serverSends(socket(), { type: 'connection_ack' });
    await vi.waitFor(() => expect(bubbles()).toContain('msg agent: Are you still there?'));
    expect(socket().sent[1]).toMatchObject({ type: 'subscribe', payload: { variables: { id: 'chat-1' } } });
    serverSends(socket(), { type: 'next', id: '1', payload: { data: { messages: missed } } });
    expect(bubbles()).toEqual(['msg contact: Where is my order?', 'msg agent: Are you still there?']);
  });

  it('ends the chat after a confirmation and offers a new one', async () => {
    await startChat();
    const input = $<HTMLTextAreaElement>('#adw-text')!;
    input.value = 'half-typed';
    click('End chat');
    expect($('[role=group]')!.textContent).toContain('End this chat?');
    click('Keep chatting');
    expect($<HTMLTextAreaElement>('#adw-text')!.value).toBe('half-typed');
    expect(fake.server.ops('endWebchat')).toHaveLength(0);

    click('End chat');
    click('Yes, end chat');
    await vi.waitFor(() => expect(root.textContent).toContain('Chat ended'));
    expect(root.textContent).toContain('You ended the chat.');
    expect(bubbles().at(-1)).toBe('system: The chat has ended');
    expect(localStorage.getItem(KEY)).toBeNull();
    expect(socket().readyState).toBe(FakeSocket.CLOSED);
    expect($('#adw-text')).toBeNull();

    click('Start a new chat');
    expect($('#adw-first')).not.toBeNull();
    expect($<HTMLInputElement>('#adw-name')!.value).toBe('Dana');
  });

  it('shows the end when the agent ends the chat', async () => {
    await startChat();
    fake.server.chat = { ...fake.server.chat, state: 'WRAP', endedBy: 'AGENT' };
    const ended = fake.server.say('SYSTEM', 'The chat has ended');
    serverSends(socket(), { type: 'next', id: '1', payload: { data: { messages: ended } } });
    await vi.waitFor(() => expect(root.textContent).toContain('The agent ended the chat.'));
    expect(localStorage.getItem(KEY)).toBeNull();
  });

  it('closes with Escape and counts unread agent messages while closed', async () => {
    await startChat();
    const launcher = button('Chat with us')!;
    key($('#adw-text')!, 'Escape');
    expect($('[role=dialog]')!.hidden).toBe(true);
    expect(root.activeElement).toBe(launcher);
    serverSends(socket(), { type: 'next', id: '1', payload: { data: { messages: fake.server.say('AGENT', 'Hello?') } } });
    expect($('.badge')!.hidden).toBe(false);
    expect($('.badge')!.textContent).toBe('1 new message');
    launcher.click();
    expect($('.badge')!.hidden).toBe(true);
  });
});
