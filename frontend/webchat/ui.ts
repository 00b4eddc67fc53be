// The widget itself: a launcher button and a panel (start form, transcript, composer, end
// confirmation), rendered with plain DOM into a shadow root, and the chat's life: start,
// resume with a stored token, live messages over the websocket, send, end; files attached to
// a message (button or drag and drop, uploaded with progress) and the agent's files.
import {
  chipNote,
  chipStatus,
  createDraftList,
  createUploader,
  fetchAttachment,
  formatSize,
  isPreviewable,
  saveBlob,
  sendBlockedReason,
  type Attachment,
  type DraftFile,
  type Uploader,
} from '../src/attachments/core';
import { ApiError, MESSAGES, createApi, hasEnded, type Chat } from './api';
import { mergeMessages, type ChatMessage } from './messages';
import { createTokenStore, tokenKey } from './store';
import { styles } from './styles';
import { createWsClient, type WsClient, type WsOptions } from './ws';

export interface WidgetOptions {
  /** The agentdesk server's origin, e.g. https://desk.example.com. */
  server: string;
  planId?: string;
  title?: string;
  root: ShadowRoot;
  storage?: () => Storage | undefined;
  sessionStorage?: () => Storage | undefined;
  fetch?: typeof fetch;
  WebSocket?: WsOptions['WebSocket'];
  retryDelay?: WsOptions['retryDelay'];
  /** Uploads a file; by default XMLHttpRequest to the server's /query (tests pass a fake). */
  upload?: Uploader;
}

type Props = Record<string, string | boolean | number | ((event: never) => void)>;

/** Creates an element: attributes from props (on* become listeners), then the children. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Node | string)[]) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (value === true) el.setAttribute(key, '');
    else if (value !== false) el.setAttribute(key, String(value));
  }
  el.append(...children);
  return el;
}

/** A speech bubble, decorative. */
function icon() {
  const span = h('span', { 'aria-hidden': 'true' });
  span.innerHTML = '<svg viewBox="0 0 24 24"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  return span;
}

/**
 * Adds the widget's styles to root as a constructed stylesheet and returns it, or returns
 * undefined where the browser cannot. A constructed stylesheet is CSSOM, which a page's CSP
 * does not govern, so the widget keeps its looks on sites whose style-src forbids inline
 * styles; a <style> element (the fallback) would be blocked there.
 */
function adoptStyles(root: ShadowRoot) {
  if (!('adoptedStyleSheets' in root) || typeof CSSStyleSheet === 'undefined' || !('replaceSync' in CSSStyleSheet.prototype)) {
    return undefined;
  }
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(styles);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  return sheet;
}

const time = (sentAt: string) => {
  const d = new Date(sentAt);
  return isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
};

/** A paperclip, decorative. */
function clip() {
  const span = h('span', { 'aria-hidden': 'true' });
  span.innerHTML = '<svg viewBox="0 0 24 24"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z"/></svg>';
  return span;
}

/** Enter sends, Shift+Enter adds a line (and Enter while composing with an IME does nothing). */
const onEnter = (action: () => void) => (event: KeyboardEvent) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    action();
  }
};

export function mountWidget(options: WidgetOptions) {
  const { server, planId, root } = options;
  const store = createTokenStore(options.storage ?? (() => localStorage), tokenKey(server, planId));
  const openKey = `${tokenKey(server, planId)}:open`;
  const session = createTokenStore(options.sessionStorage ?? (() => sessionStorage), openKey);
  let token = store.get();
  const api = createApi(server, () => token, options.fetch);

  let chat: Omit<Chat, 'messages'> | undefined;
  let messages: ChatMessage[] = [];
  let ended = false;
  let ws: WsClient | undefined;
  let subscribed = false;
  let refreshes = 0;
  let unread = 0;
  let busy = false;
  let visitorName = '';
  const rendered = new Map<string, HTMLElement>();
  // Files attached to the next message: uploaded at once, never kept across a reload (E4).
  const drafts = createDraftList({
    upload: options.upload ?? createUploader({ url: `${server}/query`, token: () => token }),
  });
  const chips = new Map<string, { el: HTMLElement; status: string }>();
  // The agent's images, fetched once with the token, as object URLs.
  const images = new Map<string, Promise<string>>();
  const absolute = (url: string) => (url.startsWith('/') ? server + url : url);

  // --- the frame: launcher, panel, header, status, body, error ---
  const badge = h('span', { class: 'badge', hidden: true });
  const launcher = h(
    'button',
    { class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'adw-panel', onclick: () => setOpen(!!panel.hidden) },
    icon(),
    'Chat with us',
    badge,
  );
  const status = h('p', { class: 'status', role: 'status' });
  const body = h('div', { class: 'body' });
  const error = h('p', { class: 'error', role: 'alert' });
  const log = h('div', { class: 'log', role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite', tabindex: 0 });
  const panel = h(
    'section',
    {
      id: 'adw-panel',
      class: 'panel',
      role: 'dialog',
      'aria-labelledby': 'adw-title',
      hidden: true,
      onkeydown: onPanelKey,
      ondragenter: onDrag,
      ondragover: onDrag,
      ondragleave: (e: DragEvent) => {
        if (!panel.contains(e.relatedTarget as Node | null)) panel.classList.remove('dropping');
      },
      ondrop: onDrop,
    },
    h(
      'header',
      {},
      h('h2', { id: 'adw-title' }, options.title || 'Chat with us'),
      h('button', { 'aria-label': 'Minimise chat', title: 'Minimise', onclick: () => setOpen(false) }, '–'),
    ),
    status,
    body,
    error,
  );
  const sheet = adoptStyles(root);
  root.append(...(sheet ? [] : [h('style', {}, styles)]), panel, launcher);

  function setOpen(open: boolean, focus = true) {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    if (open) session.set('1');
    else session.clear();
    if (open) {
      unread = 0;
      renderBadge();
      scrollToEnd();
      if (focus) (panel.querySelector('.body textarea, .body input, .body button') as HTMLElement | null)?.focus();
    } else if (focus) launcher.focus();
  }

  function onPanelKey(event: KeyboardEvent) {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    if (confirming) {
      showComposer();
      composer()?.focus();
    } else setOpen(false);
  }

  /** Files dragged over the panel while the composer is open can be dropped there (S5). */
  const takesFiles = (event: DragEvent) => !!composer() && !!event.dataTransfer && [...event.dataTransfer.types].includes('Files');

  function onDrag(event: DragEvent) {
    if (!takesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer!.dropEffect = 'copy';
    panel.classList.add('dropping');
  }

  function onDrop(event: DragEvent) {
    panel.classList.remove('dropping');
    if (!takesFiles(event)) return;
    event.preventDefault();
    attach([...event.dataTransfer!.files]);
  }

  function attach(files: File[]) {
    if (files.length === 0) return;
    setError();
    drafts.add(files);
  }

  function renderBadge() {
    badge.hidden = unread === 0;
    badge.textContent = '';
    badge.append(String(unread), h('span', { class: 'sr' }, unread === 1 ? ' new message' : ' new messages'));
  }

  /** Shows (or with no text, clears) the alert, keeping the transcript's end in view. */
  const setError = (text = '') => {
    const pinned = atEnd();
    error.textContent = text;
    if (pinned) scrollToEnd();
  };
  const describe = (e: unknown) => (e instanceof Error ? e.message : 'Something went wrong. Please try again.');

  // --- start form ---
  function showStart() {
    chat = undefined;
    draft = '';
    drafts.clear();
    messages = [];
    ended = false;
    rendered.clear();
    status.textContent = '';
    const name = h('input', { id: 'adw-name', autocomplete: 'name', maxlength: 100, value: visitorName });
    const text = h('textarea', { id: 'adw-first', rows: 4, 'aria-required': 'true' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Start chat');
    const form = h(
      'form',
      { class: 'start', 'aria-label': 'Start a chat', onsubmit: (e: SubmitEvent) => (e.preventDefault(), begin()) },
      h('p', {}, 'Hi! Tell us your name and how we can help, and one of our team will join you.'),
      h('label', { for: 'adw-name' }, 'Your name (optional)'),
      name,
      h('label', { for: 'adw-first' }, 'Your message'),
      text,
      submit,
    );
    text.addEventListener('keydown', onEnter(() => form.requestSubmit()));
    body.replaceChildren(form);

    async function begin() {
      if (busy) return;
      if (!text.value.trim()) {
        setError('Please type a message to start the chat.');
        return text.focus();
      }
      busy = true;
      submit.disabled = true;
      form.setAttribute('aria-busy', 'true');
      setError();
      visitorName = name.value.trim();
      try {
        const result = await api.start({ name: visitorName || undefined, planId, text: text.value });
        if (result.token && result.chat) {
          token = result.token;
          store.set(token);
          showChat();
          applyChat(result.chat);
          composer()?.focus();
        } else setError(result.userErrors[0]?.message ?? 'The chat could not be started. Please try again.');
      } catch (e) {
        setError(describe(e));
      } finally {
        busy = false;
        submit.disabled = false;
        form.removeAttribute('aria-busy');
      }
    }
  }

  // --- transcript and composer ---
  const footer = h('footer');
  let confirming = false;
  let draft = '';
  const composer = () => footer.querySelector('textarea');
  const chipList = h('ul', { class: 'chips', 'aria-label': 'Attached files' });
  let sendButton: HTMLButtonElement | undefined;
  const sendWhy = h('span', { id: 'adw-send-why', class: 'tip', role: 'tooltip', hidden: true });

  /** The chips of the attached files, updated in place (progress) or replaced (a new state). */
  function renderChips() {
    const list = drafts.list();
    for (const [key, chip] of chips)
      if (!list.some((d) => d.key === key)) {
        chip.el.remove();
        chips.delete(key);
      }
    let ref = chipList.firstChild;
    for (const d of list) {
      const status = chipStatus(d);
      let chip = chips.get(d.key);
      if (chip && chip.status === status) {
        const bar = chip.el.querySelector('progress');
        if (bar) bar.value = d.progress;
      } else {
        if (chip) {
          if (chip.el === ref) ref = ref.nextSibling;
          chip.el.remove();
        }
        chip = { el: renderChip(d), status };
        chips.set(d.key, chip);
      }
      if (chip.el === ref) ref = ref.nextSibling;
      else chipList.insertBefore(chip.el, ref);
    }
    chipList.hidden = list.length === 0;
    renderSendState();
  }

  function renderChip(d: DraftFile) {
    const status = chipStatus(d);
    const note = chipNote(d);
    const problem = status === 'infected' || status === 'too-large' || status === 'failed';
    const ext = /\.([a-z0-9]{1,5})$/i.exec(d.name)?.[1]?.toUpperCase() ?? 'FILE';
    return h(
      'li',
      { class: `chip ${status}`, 'data-status': status, 'aria-label': d.name },
      d.preview ? h('img', { src: d.preview, alt: '' }) : h('span', { class: 'ext', 'aria-hidden': 'true' }, ext),
      h(
        'span',
        { class: 'info' },
        h('span', { class: 'name' }, d.name),
        h('span', { class: 'size' }, formatSize(d.size)),
        status === 'uploading'
          ? h('progress', { max: 1, value: d.progress, 'aria-label': `Uploading ${d.name}` })
          : note
            ? h('span', { class: problem ? 'problem' : 'note', role: problem ? 'alert' : false }, note)
            : '',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'remove',
          'aria-label': `Remove ${d.name}`,
          onclick: () => {
            drafts.remove(d.key);
            composer()?.focus();
          },
        },
        '×',
      ),
    );
  }

  /** Send waits for the files: it says why on hover and focus (aria-disabled keeps it focusable). */
  function renderSendState() {
    const why = sendBlockedReason(drafts.list());
    sendWhy.textContent = why ?? '';
    sendWhy.hidden = why === null;
    if (!sendButton) return;
    if (why) {
      sendButton.setAttribute('aria-disabled', 'true');
      sendButton.setAttribute('aria-describedby', 'adw-send-why');
    } else {
      sendButton.removeAttribute('aria-disabled');
      sendButton.removeAttribute('aria-describedby');
    }
  }
  drafts.subscribe(renderChips);

  function showChat() {
    log.replaceChildren();
    rendered.clear();
    body.replaceChildren(log, footer);
    showComposer();
  }

  function showComposer() {
    confirming = false;
    const input = h('textarea', {
      id: 'adw-text',
      rows: 2,
      placeholder: 'Type a message…',
      onkeydown: onEnter(send),
    });
    input.value = draft;
    const button = (sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send'));
    const picker = h('input', {
      type: 'file',
      multiple: true,
      hidden: true,
      tabindex: -1,
      onchange: () => {
        attach([...(picker.files ?? [])]);
        picker.value = '';
      },
    });
    const form = h(
      'form',
      { class: 'row', 'aria-label': 'Send a message', onsubmit: (e: SubmitEvent) => (e.preventDefault(), send()) },
      h('button', { type: 'button', class: 'attach', 'aria-label': 'Attach files', title: 'Attach files', onclick: () => picker.click() }, clip()),
      picker,
      h('label', { class: 'sr', for: 'adw-text' }, 'Message'),
      input,
      h('span', { class: 'send' }, button, sendWhy),
    );
    const endButton = h('button', { type: 'button', class: 'small', onclick: askToEnd }, 'End chat');
    footer.replaceChildren(chipList, form, h('div', { class: 'row' }, endButton));
    renderChips();

    async function send() {
      const text = input.value;
      const files = drafts.list();
      if (busy || (!text.trim() && files.length === 0)) return;
      const why = sendBlockedReason(files);
      if (why) return setError(why);
      const ids = drafts.ids();
      busy = true;
      input.readOnly = true;
      button.disabled = true;
      setError();
      try {
        const result = await api.send(text, ids);
        if (result.message) {
          if (input.value === text) input.value = draft = '';
          drafts.removeSent(ids);
          add([result.message]);
          scrollToEnd();
        } else {
          const problem = result.userErrors[0];
          setError(problem?.message ?? 'Your message was not sent. Please try again.');
          if (problem?.code === 'WRONG_STATE') void refresh();
        }
      } catch (e) {
        // RATE_LIMITED and network failures: say so and keep the text for another try.
        setError(describe(e));
        if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') void refresh();
      } finally {
        busy = false;
        input.readOnly = false;
        button.disabled = false;
        if (footer.contains(input)) input.focus();
      }
    }
  }

  function askToEnd() {
    confirming = true;
    sendButton = undefined;
    draft = composer()?.value ?? '';
    const yes = h('button', { type: 'button', class: 'primary', onclick: end }, 'Yes, end chat');
    footer.replaceChildren(
      h(
        'div',
        { class: 'row confirm', role: 'group', 'aria-label': 'Confirm ending the chat' },
        h('span', {}, 'End this chat?'),
        yes,
        h('button', { type: 'button', onclick: () => (showComposer(), composer()?.focus()) }, 'Keep chatting'),
      ),
    );
    yes.focus();

    async function end() {
      if (busy) return;
      busy = true;
      yes.disabled = true;
      setError();
      try {
        const result = await api.end();
        if (result.chat) applyChat(result.chat);
        else {
          setError(result.userErrors[0]?.message ?? 'The chat could not be ended. Please try again.');
          void refresh();
        }
      } catch (e) {
        setError(describe(e));
        yes.disabled = false;
      } finally {
        busy = false;
      }
    }
  }

  function showEnded() {
    const again = h(
      'button',
      { type: 'button', class: 'primary', onclick: () => (setError(), showStart(), body.querySelector('textarea')?.focus()) },
      'Start a new chat',
    );
    // Focus follows only if it was in the widget (e.g. in the composer that goes away now).
    const hadFocus = panel.contains(root.activeElement);
    drafts.clear();
    sendButton = undefined;
    const by = chat?.endedBy === 'CONTACT' ? 'You ended the chat.' : chat?.endedBy === 'AGENT' ? 'The agent ended the chat.' : '';
    footer.replaceChildren(h('div', { class: 'note ended' }, h('strong', {}, 'Chat ended'), by, again));
    status.textContent = '';
    if (hadFocus) again.focus();
  }

  /** Adds messages to the transcript; `live` ones count as unread while the panel is closed. */
  function add(incoming: ChatMessage[], live = false) {
    const next = mergeMessages(messages, incoming);
    if (next === messages) return;
    if (live && panel.hidden) {
      unread += incoming.filter((m) => m.from !== 'CONTACT' && !messages.some((k) => k.id === m.id)).length;
      renderBadge();
    }
    messages = next;
    const nearEnd = atEnd();
    let ref = log.firstChild;
    for (const m of messages) {
      let el = rendered.get(m.id);
      if (!el || el.dataset.text !== m.text || el.dataset.files !== String(m.attachments?.length ?? 0)) {
        // The old element goes; the new one is inserted where it stood (ref moves past it).
        if (el) {
          if (el === ref) ref = ref.nextSibling;
          el.remove();
        }
        el = renderMessage(m);
        rendered.set(m.id, el);
      }
      if (el === ref) ref = ref.nextSibling;
      else log.insertBefore(el, ref);
    }
    if (nearEnd) scrollToEnd();
  }

  function renderMessage(m: ChatMessage) {
    if (m.from === 'SYSTEM') return h('div', { class: 'system', 'data-text': m.text, 'data-files': 0 }, m.text);
    const who = m.from === 'CONTACT' ? 'You' : chat?.agentName || 'Agent';
    const files = m.attachments ?? [];
    return h(
      'div',
      { class: `msg ${m.from.toLowerCase()}`, 'data-text': m.text, 'data-files': files.length },
      h('small', {}, who, ' · ', h('time', { datetime: m.sentAt }, time(m.sentAt))),
      ...(m.text || files.length === 0 ? [h('p', {}, m.text)] : []),
      ...(files.length > 0 ? [h('ul', { class: 'files', 'aria-label': 'Files' }, ...files.map(renderFile))] : []),
    );
  }

  /** A file in the transcript: an image inline, and a button that downloads it with the token. */
  function renderFile(a: Attachment) {
    const item = h('li', {});
    if (a.scan === 'INFECTED') {
      item.append(h('span', { class: 'problem' }, `${a.fileName}: blocked, it contains malware`));
      return item;
    }
    if (isPreviewable(a.contentType)) {
      const img = h('img', { alt: a.fileName, class: 'thumb' });
      let image = images.get(a.url);
      if (!image) {
        image = fetchAttachment(absolute(a.url), token, options.fetch).then((blob) => URL.createObjectURL(blob));
        images.set(a.url, image);
        image.catch(() => images.delete(a.url));
      }
      image.then(
        (src) => {
          img.src = src;
          if (atEnd()) scrollToEnd();
        },
        () => img.remove(),
      );
      item.append(img);
    }
    const status = h('span', { class: 'problem', role: 'alert' });
    const button = h(
      'button',
      {
        type: 'button',
        class: 'file',
        'aria-label': `Download ${a.fileName}, ${formatSize(a.size)}`,
        onclick: async () => {
          status.textContent = '';
          button.disabled = true;
          try {
            saveBlob(await fetchAttachment(absolute(a.url), token, options.fetch), a.fileName, root);
          } catch (e) {
            status.textContent = describe(e);
          } finally {
            button.disabled = false;
          }
        },
      },
      h('span', { class: 'name' }, a.fileName),
      h('span', { class: 'size' }, formatSize(a.size)),
    );
    item.append(button, status);
    return item;
  }

  function atEnd() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // --- the chat's state from the server ---
  function applyChat(next: Chat) {
    if (chat && chat.id !== next.id) return;
    const { messages: page, ...rest } = next;
    chat = rest;
    add(page.edges.map((e) => e.node));
    if (!ended && hasEnded(next)) {
      ended = true;
      forget();
      showEnded();
    }
    if (ended) return;
    status.textContent =
      next.state === 'QUEUED' || next.state === 'OFFERED'
        ? 'Waiting for an agent to join…'
        : `You are chatting with ${next.agentName || 'an agent'}.`;
    if (!subscribed) subscribe();
  }

  /** Re-reads the chat; an unknown token leads back to the start form. */
  async function refresh() {
    const asked = token;
    if (!asked) return;
    const seq = ++refreshes;
    let next: Chat | null;
    try {
      next = await api.myChat();
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'UNAUTHENTICATED')) {
        // Too fast (the server limits requests per chat): read again shortly.
        if (e instanceof ApiError && e.code === 'RATE_LIMITED') setTimeout(() => void refresh(), 2000);
        else if (seq === refreshes && !chat) showRetry(describe(e));
        return;
      }
      next = null;
    }
    if (seq !== refreshes || token !== asked) return;
    if (next) {
      if (!chat) showChat();
      applyChat(next);
    } else if (!ended) {
      forget();
      setError();
      showStart();
    }
  }

  function showRetry(message: string) {
    setError(message);
    body.replaceChildren(
      h(
        'div',
        { class: 'note' },
        h('button', { type: 'button', onclick: () => (setError(), showLoading(), refresh()) }, 'Try again'),
      ),
    );
  }

  function showLoading() {
    body.replaceChildren(h('p', { class: 'note' }, 'Connecting…'));
  }

  function subscribe() {
    if (!chat || !token) return;
    subscribed = true;
    ws ??= createWsClient({
      url: `${server.replace(/^http/, 'ws')}/query`,
      params: () => ({ Authorization: `Bearer ${token}` }),
      // After every (re)connection: fetch what the socket may have missed.
      onConnected: () => void refresh(),
      onDropped: () => void refresh(),
      retryDelay: options.retryDelay,
      WebSocket: options.WebSocket,
    });
    const again = () => {
      subscribed = false;
      setTimeout(() => void refresh(), 2000);
    };
    ws.subscribe(MESSAGES, { id: chat.id }, {
      next(result) {
        const message = (result as { data?: { messages?: ChatMessage } }).data?.messages;
        if (message) add([message], true);
        if (!message || message.from === 'SYSTEM') void refresh();
      },
      error: again,
      complete: again,
    });
  }

  function forget() {
    drafts.clear();
    for (const image of images.values()) void image.then((src) => URL.revokeObjectURL(src), () => {});
    images.clear();
    store.clear();
    token = undefined;
    subscribed = false;
    ws?.dispose();
    ws = undefined;
  }

  // --- start: resume a stored chat, or offer the form ---
  if (token) {
    showLoading();
    void refresh();
  } else showStart();
  if (session.get()) setOpen(true, false);

  return {
    /** Removes the widget and closes its socket; the stored token stays for the next page. */
    destroy() {
      drafts.clear();
      token = undefined;
      ws?.dispose();
      ws = undefined;
      root.replaceChildren();
      if (sheet) root.adoptedStyleSheets = root.adoptedStyleSheets.filter((s) => s !== sheet);
    },
  };
}
