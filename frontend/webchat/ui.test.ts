// The widget in happy-dom against a fake agentdesk: HTTP GraphQL through a fake fetch and the
// websocket through FakeSocket, the test playing the server.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_ATTACHMENT_BYTES, type Attachment, type UploadOutcome } from '../src/attachments/core';
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
    downloads: [] as { url: string; auth?: string }[],
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
      const { text, attachmentIds = [] } = variables.input as { text: string; attachmentIds?: string[] };
      const message = server.say('CONTACT', text);
      const sent = { ...message, attachments: attachmentIds.map((id) => attachmentOf(id)) };
      server.messages[server.messages.length - 1] = sent;
      return { data: { sendContactMessage: { message: sent, userErrors: [] } } };
    }
    if (query.includes('endWebchat')) {
      server.chat = { ...server.chat, state: 'WRAP', endedBy: 'CONTACT' };
      server.say('SYSTEM', 'The chat has ended');
      return { data: { endWebchat: { chat: chat(), userErrors: [] } } };
    }
    throw new Error(`unexpected ${query}`);
  };
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    if (url.startsWith(`${SERVER}/attachments/`)) {
      server.downloads.push({ url, auth: (init.headers as Record<string, string>).Authorization });
      return { ok: true, status: 200, blob: async () => new Blob([`bytes of ${url}`]) } as Response;
    }
    expect(url).toBe(`${SERVER}/query`);
    const { query, variables } = JSON.parse(init.body as string);
    const auth = (init.headers as Record<string, string>).Authorization;
    server.calls.push({ query, variables, auth });
    const body = answer(query, variables, auth);
    return { json: async () => body } as Response;
  });
  return { server, fetch: fetch as unknown as typeof globalThis.fetch };
}

const attachmentOf = (id: string, overrides: Partial<Attachment> = {}): Attachment => ({
  id,
  fileName: `${id}.png`,
  contentType: 'image/png',
  size: 2048,
  url: `/attachments/${id}`,
  scan: 'UNSCANNED',
  threat: null,
  ...overrides,
});

/** Uploads the test finishes, one deferred per file. */
let uploads: { file: File; progress: (f: number) => void; finish: (o: UploadOutcome) => void; abort: ReturnType<typeof vi.fn> }[];
const upload = (file: File, progress: (f: number) => void) => {
  let finish!: (o: UploadOutcome) => void;
  const done = new Promise<UploadOutcome>((resolve) => (finish = resolve));
  const abort = vi.fn();
  uploads.push({ file, progress, finish, abort });
  return { done, abort };
};

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
    upload,
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
  uploads = [];
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

describe('webchat widget attachments', () => {
  const picker = () => $<HTMLInputElement>('input[type=file]')!;
  const chip = (name: string) => $(`li[aria-label="${name}"]`);
  const sendButton = () => button('Send')!;
  const pick = (...files: File[]) => {
    Object.defineProperty(picker(), 'files', { value: files, configurable: true });
    picker().dispatchEvent(new Event('change'));
  };
  const png = (name: string, size?: number) => {
    const file = new File(['png'], name, { type: 'image/png' });
    if (size !== undefined) Object.defineProperty(file, 'size', { value: size });
    return file;
  };
  const drag = (target: Element, type: string, files: File[]) => {
    const event = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(event, 'dataTransfer', { value: { types: ['Files'], files, dropEffect: 'none' } });
    target.dispatchEvent(event);
    return event;
  };

  beforeEach(() => {
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:preview');
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
  });

  it('attaches files with the button and by dropping them; Send waits for the uploads and says why; sends their IDs', async () => {
    await startChat();
    const clicked = vi.fn();
    picker().addEventListener('click', clicked);
    click('Attach files');
    expect(clicked).toHaveBeenCalled();
    expect(picker().multiple).toBe(true);

    pick(png('photo.png'));
    expect(uploads.map((u) => u.file.name)).toEqual(['photo.png']);
    expect(chip('photo.png')!.querySelector('img')!.getAttribute('src')).toBe('blob:preview');
    uploads[0]!.progress(0.3);
    expect(chip('photo.png')!.querySelector('progress')!.value).toBe(0.3);
    expect(chip('photo.png')!.querySelector('progress')!.getAttribute('aria-label')).toBe('Uploading photo.png');
    expect(sendButton().getAttribute('aria-disabled')).toBe('true');
    expect(root.getElementById(sendButton().getAttribute('aria-describedby')!)!.textContent).toBe('Wait until photo.png has uploaded.');

    // Enter does not send while it uploads: the reason shows.
    const input = $<HTMLTextAreaElement>('#adw-text')!;
    input.value = 'The photo';
    key(input, 'Enter');
    expect($('.error')!.textContent).toBe('Wait until photo.png has uploaded.');
    expect(fake.server.ops('sendContactMessage')).toHaveLength(0);

    // A file dropped on the panel.
    expect(drag(input, 'dragover', []).defaultPrevented).toBe(true);
    expect($('.panel')!.classList.contains('dropping')).toBe(true);
    expect(drag(input, 'drop', [png('close-up.png')]).defaultPrevented).toBe(true);
    expect($('.panel')!.classList.contains('dropping')).toBe(false);
    expect(uploads.map((u) => u.file.name)).toEqual(['photo.png', 'close-up.png']);

    uploads[0]!.finish({ attachment: attachmentOf('att-1', { fileName: 'photo.png' }) });
    uploads[1]!.finish({ attachment: attachmentOf('att-2', { fileName: 'close-up.png', scan: 'CLEAN' }) });
    await vi.waitFor(() => expect(chip('photo.png')!.dataset.status).toBe('unscanned'));
    expect(chip('photo.png')!.textContent).toContain('Not scanned for viruses');
    expect(chip('close-up.png')!.dataset.status).toBe('clean');
    expect(sendButton().getAttribute('aria-disabled')).toBeNull();

    key(input, 'Enter');
    await vi.waitFor(() => expect(fake.server.ops('sendContactMessage')).toHaveLength(1));
    expect(fake.server.ops('sendContactMessage')[0]!.variables.input).toEqual({ text: 'The photo', attachmentIds: ['att-1', 'att-2'] });
    await vi.waitFor(() => expect(chip('photo.png')).toBeNull());
    expect($('.chips')!.hidden).toBe(true);
    // Our own message shows its files.
    expect([...root.querySelectorAll('.log button.file')].map((b) => b.getAttribute('aria-label'))).toEqual([
      'Download att-1.png, 2 KB',
      'Download att-2.png, 2 KB',
    ]);
  });

  it('an infected file says so, and Send says to remove it; removing it lets the message go', async () => {
    await startChat();
    pick(png('invoice.png'));
    uploads[0]!.finish({
      attachment: attachmentOf('att-9', { fileName: 'invoice.png', scan: 'INFECTED', threat: 'Eicar-Test-Signature' }),
      error: { code: 'INFECTED', message: 'invoice.png contains malware' },
    });
    await vi.waitFor(() => expect(chip('invoice.png')!.dataset.status).toBe('infected'));
    expect(chip('invoice.png')!.querySelector('[role=alert]')!.textContent).toBe('Contains malware (Eicar-Test-Signature): remove it.');
    expect(sendButton().getAttribute('aria-disabled')).toBe('true');
    expect($('#adw-send-why')!.textContent).toBe('invoice.png contains malware: remove it to send.');
    expect($('#adw-send-why')!.getAttribute('role')).toBe('tooltip');

    click('Remove invoice.png');
    expect(chip('invoice.png')).toBeNull();
    expect(sendButton().getAttribute('aria-disabled')).toBeNull();
    expect(root.activeElement).toBe($('#adw-text'));
  });

  it('a file over 25 MB is refused before uploading', async () => {
    await startChat();
    pick(png('huge.png', MAX_ATTACHMENT_BYTES + 1));
    expect(uploads).toHaveLength(0);
    expect(chip('huge.png')!.textContent).toContain('huge.png is over the 25 MB limit (E4)');
    expect($('#adw-send-why')!.textContent).toBe('huge.png is over the 25 MB limit: remove it to send.');
  });

  it('shows the agent’s files: images inline and every file as a download, fetched with the contact’s token', async () => {
    await startChat();
    const message = {
      ...fake.server.say('AGENT', ''),
      attachments: [
        attachmentOf('img-1', { fileName: 'map.png' }),
        attachmentOf('doc-1', { fileName: 'receipt.pdf', contentType: 'application/pdf', size: 900 }),
      ],
    };
    serverSends(socket(), { type: 'next', id: '1', payload: { data: { messages: message } } });
    await vi.waitFor(() => expect($<HTMLImageElement>('.log img.thumb')?.getAttribute('src')).toBe('blob:preview'));
    expect($('.log img.thumb')!.getAttribute('alt')).toBe('map.png');
    expect(fake.server.downloads).toEqual([{ url: 'https://desk.test/attachments/img-1', auth: 'Bearer tok-1' }]);
    // A message of files alone has no empty bubble.
    expect(root.querySelectorAll('.log .agent p')).toHaveLength(0);

    const saved = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    click('Download receipt.pdf, 900 B');
    await vi.waitFor(() => expect(saved).toHaveBeenCalled());
    expect(fake.server.downloads.at(-1)).toEqual({ url: 'https://desk.test/attachments/doc-1', auth: 'Bearer tok-1' });
    expect((saved.mock.contexts[0] as HTMLAnchorElement).download).toBe('receipt.pdf');
  });
});
