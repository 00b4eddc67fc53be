// The webchat widget on its demo page, served by the real binary and driven in Debian's
// Chromium, with alice answering over plain HTTP GraphQL.
/* global document, getComputedStyle -- used inside page.evaluate callbacks, which run in the browser */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, launchChromium, OUTPUT } from './browser.mjs';
import { graphql, login, startServer } from './server.mjs';

const DIST_WIDGET = fileURLToPath(new URL('../dist/webchat/widget.js', import.meta.url));

let server;
let browser;
/** Another site (another origin) that embeds the widget; the agentdesk server allows its origin. */
let site;

before(async () => {
  if (!existsSync(DIST_WIDGET)) {
    throw new Error('dist/webchat/widget.js is missing: run npm run build, then rebuild bin/agentdesk');
  }
  site = await startSite();
  const allowed = process.env.AGENTDESK_ALLOWED_ORIGINS;
  process.env.AGENTDESK_ALLOWED_ORIGINS = site.url;
  try {
    server = await startServer();
  } finally {
    if (allowed === undefined) delete process.env.AGENTDESK_ALLOWED_ORIGINS;
    else process.env.AGENTDESK_ALLOWED_ORIGINS = allowed;
  }
  const served = await fetch(`${server.url}/webchat/widget.js`);
  assert.equal(served.status, 200, 'GET /webchat/widget.js');
  assert.equal(
    (await served.text()).trim(),
    readFileSync(DIST_WIDGET, 'utf8').trim(),
    'bin/agentdesk embeds another widget build than dist/: after npm run build, run ' +
      'cd /work/main && go build -o bin/agentdesk ./cmd/agentdesk',
  );
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  site?.close();
});

/** Serves /contact?plan=<ID>: a page with the widget's tag pointing at the agentdesk server. */
async function startSite() {
  const http = createServer((request, response) => {
    const plan = new URL(request.url, 'http://site').searchParams.get('plan') ?? '';
    if (!request.url.startsWith('/contact')) {
      response.writeHead(204).end(); // e.g. /favicon.ico
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><title>Contact sales</title><h1>Contact sales</h1>
      <script src="${server.url}/webchat/widget.js" data-plan="${plan}" data-title="Talk to sales" async></script>`);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${http.address().port}`, close: () => http.close() };
}

/** A fresh context and page that fail the test on uncaught errors or console errors. */
async function openPage(t, { allowConsole = () => false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowConsole(message.text())) pageErrors.push(`console: ${message.text()}`);
  });
  t.after(async () => {
    await context.close();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
  return { context, page };
}

/** Runs one GraphQL operation and fails loudly on errors. */
async function gql(query, variables, token) {
  const body = await graphql(server, query, variables, token);
  assert.equal(body.errors, undefined, `${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const tokenKey = () => `agentdesk-webchat:${server.url}:default`;
const storedToken = (page) => page.evaluate((key) => localStorage.getItem(key), tokenKey());
/** The transcript as "class: text" lines (the widget renders into an open shadow root). */
const transcript = (page) =>
  page.locator('agentdesk-webchat .log > *').evaluateAll((nodes) =>
    nodes.map((n) => `${n.classList.contains('system') ? 'system' : n.classList[1]}: ${n.querySelector('p')?.textContent ?? n.textContent}`),
  );

/**
 * Signs `username` in, makes them Ready (Not Ready again after the test, so later chats go to
 * other agents), and accepts the first webchat offered to them.
 */
async function acceptWebchat(t, username) {
  const token = await login(server, username);
  const presence = (value) =>
    gql('mutation ($input: SetPresenceInput!) { setPresence(input: $input) { userErrors { code message } } }', {
      input: { presence: value },
    }, token);
  await presence('READY');
  t.after(() => presence('NOT_READY'));
  const interaction = await eventually(`a webchat to reach ${username}`, async () => {
    const { myInteractions } = await gql('{ myInteractions { id channel state offer { id } } }', undefined, token);
    return myInteractions.find((i) => i.channel === 'WEBCHAT' && (i.offer || i.state === 'ACTIVE'));
  });
  if (interaction.offer) {
    const { acceptOffer } = await gql(
      'mutation ($input: OfferInput!) { acceptOffer(input: $input) { userErrors { code message } } }',
      { input: { offerId: interaction.offer.id } },
      token,
    );
    assert.deepEqual(acceptOffer.userErrors, []);
  }
  return { token, interaction };
}

test('widget: start a chat, get an answer from alice, resume after a reload, end it', async (t) => {
  const { page } = await openPage(t);
  await page.goto(`${server.url}/webchat/demo`);
  await page.getByRole('heading', { name: 'Help & support' }).waitFor();

  const launcher = page.getByRole('button', { name: 'Chat with us' });
  await launcher.click();
  const panel = page.getByRole('dialog', { name: 'Chat with us' });
  await panel.waitFor();
  // The page's `button { text-transform: uppercase }` does not reach into the shadow root.
  assert.equal(await launcher.evaluate((b) => getComputedStyle(b).textTransform), 'none');
  await page.screenshot({ path: `${OUTPUT}widget-start-form.png` });

  await panel.getByLabel('Your name (optional)').fill('Dana');
  await panel.getByLabel('Your message').fill('Hello, is my tent order on its way?');
  await panel.getByRole('button', { name: 'Start chat' }).click();

  const log = panel.getByRole('log', { name: 'Messages' });
  await log.getByText('Hello, is my tent order on its way?').waitFor();
  await panel.getByText('Waiting for an agent to join…').waitFor();
  const token = await storedToken(page);
  assert.ok(token, `the widget keeps its token under ${tokenKey()}`);
  await page.screenshot({ path: `${OUTPUT}widget-waiting.png` });

  // alice signs in, goes Ready, and accepts the offer.
  const { token: alice, interaction } = await acceptWebchat(t, 'alice');
  await panel.getByText(/You are chatting with Alice/).waitFor();

  const { sendMessage } = await gql(
    'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } userErrors { code message } } }',
    { input: { interactionId: interaction.id, text: 'Hi Dana, Alice here. Let me look that up.' } },
    alice,
  );
  assert.deepEqual(sendMessage.userErrors, []);
  await log.getByText('Hi Dana, Alice here. Let me look that up.').waitFor();

  // Enter sends; Shift+Enter adds a line.
  const box = panel.getByRole('textbox', { name: 'Message' });
  await box.fill('Order 1234');
  await box.press('Shift+Enter');
  await box.pressSequentially('Thanks!');
  await box.press('Enter');
  await log.getByText('Thanks!').waitFor();
  // The box empties when the server has accepted the message, which may be just after the
  // message comes back on the subscription.
  await eventually('the message box to empty', async () => (await box.inputValue()) === '');
  const sent = await eventually('the visitor’s reply to reach the transcript', async () => {
    const data = await gql(
      'query ($id: ID!) { interaction(id: $id) { transcript { edges { node { from text } } } } }',
      { id: interaction.id },
      alice,
    );
    return data.interaction.transcript.edges.find((e) => e.node.from === 'CONTACT' && e.node.text.startsWith('Order 1234'));
  });
  assert.equal(sent.node.text, 'Order 1234\nThanks!');
  await page.screenshot({ path: `${OUTPUT}widget-chatting.png` });
  const before = await transcript(page);
  assert.deepEqual(
    before.filter((line) => !line.startsWith('system')),
    ['contact: Hello, is my tent order on its way?', 'agent: Hi Dana, Alice here. Let me look that up.', 'contact: Order 1234\nThanks!'],
  );
  assert.ok(before.length === new Set(before).size, `no duplicates: ${before.join(' | ')}`);

  // A reload resumes the chat: same token, the whole transcript, the panel open as it was.
  await page.reload();
  await log.getByText('Order 1234').waitFor();
  assert.equal(await storedToken(page), token);
  assert.deepEqual(await transcript(page), before);
  await panel.getByText(/You are chatting with Alice/).waitFor();
  // Live messages still arrive after the reload.
  await gql(
    'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }',
    { input: { interactionId: interaction.id, text: 'It ships tomorrow.' } },
    alice,
  );
  await log.getByText('It ships tomorrow.').waitFor();
  await page.screenshot({ path: `${OUTPUT}widget-resumed.png` });

  // The visitor ends the chat, after a confirmation.
  await panel.getByRole('button', { name: 'End chat' }).click();
  await panel.getByRole('group', { name: 'Confirm ending the chat' }).waitFor();
  await panel.getByRole('button', { name: 'Yes, end chat' }).click();
  await panel.getByText('Chat ended').waitFor();
  await panel.getByText('You ended the chat.').waitFor();
  await panel.getByRole('button', { name: 'Start a new chat' }).waitFor();
  assert.equal(await storedToken(page), null, 'an ended chat’s token is forgotten');
  await page.screenshot({ path: `${OUTPUT}widget-ended.png` });

  const { interaction: ended } = await gql(
    'query ($id: ID!) { interaction(id: $id) { state endedBy } }',
    { id: interaction.id },
    alice,
  );
  assert.deepEqual(ended, { state: 'WRAP', endedBy: 'CONTACT' });

  await panel.getByRole('button', { name: 'Start a new chat' }).click();
  await panel.getByLabel('Your message').waitFor();
});

test('widget: embedded on another site, data-plan routes the chat, and the agent can end it', async (t) => {
  const { page } = await openPage(t);
  const { interactionPlans } = await gql('{ interactionPlans(search: "Sales") { id name } }', undefined, await login(server, 'admin'));
  const sales = interactionPlans.find((p) => p.name === 'Sales');
  assert.ok(sales, 'the demo data has a Sales plan');
  await page.goto(`${site.url}/contact?plan=${sales.id}`);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  const panel = page.getByRole('dialog', { name: 'Talk to sales' });
  await panel.getByLabel('Your message').fill('Do you sell two-person tents?');
  await panel.getByLabel('Your message').press('Enter');
  await panel.getByText('Waiting for an agent to join…').waitFor();
  const key = `agentdesk-webchat:${server.url}:${sales.id}`;
  assert.ok(await page.evaluate((k) => localStorage.getItem(k), key), `the token is kept under ${key}`);

  const bob = await acceptWebchat(t, 'bob');
  const { interaction } = await gql('query ($id: ID!) { interaction(id: $id) { plan { name } contact { name } } }', {
    id: bob.interaction.id,
  }, bob.token);
  assert.deepEqual(interaction, { plan: { name: 'Sales' }, contact: { name: null } });
  await panel.getByText('You are chatting with Bob Okafor.').waitFor();

  const { endInteraction } = await gql(
    'mutation ($input: InteractionInput!) { endInteraction(input: $input) { userErrors { code message } } }',
    { input: { interactionId: bob.interaction.id } },
    bob.token,
  );
  assert.deepEqual(endInteraction.userErrors, []);
  await panel.getByText('Chat ended').waitFor();
  await panel.getByText('The agent ended the chat.').waitFor();
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), key), null);
  await page.screenshot({ path: `${OUTPUT}widget-agent-ended.png` });
});

test('widget: sending too fast says so and keeps the typed text', async (t) => {
  // Its own server, whose chats earn a request back every 5 s after their burst of 10 (the
  // default is 2 a second): on a busy machine, sends slower than 2 a second were never refused.
  const slow = await startServer({ args: ['-webchat-rate-token', '0.2'] });
  t.after(() => slow.stop());
  const { page } = await openPage(t, { allowConsole: (text) => text.startsWith('Failed to load resource') });
  await page.goto(`${slow.url}/webchat/demo`);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  const panel = page.getByRole('dialog');
  await panel.getByLabel('Your message').fill('Quick question');
  await panel.getByRole('button', { name: 'Start chat' }).click();
  const box = panel.getByRole('textbox', { name: 'Message' });
  await box.waitFor();
  const alert = panel.locator('.error'); // role=alert, hidden while empty
  // The server allows a burst of 10 requests per chat, then one every 5 s.
  let refused;
  for (let i = 1; i <= 30 && !refused; i++) {
    await box.fill(`message ${i}`);
    await box.press('Enter');
    await page.waitForFunction(
      () => {
        const root = document.querySelector('agentdesk-webchat').shadowRoot;
        return root.querySelector('#adw-text').value === '' || root.querySelector('[role=alert]').textContent !== '';
      },
    );
    if ((await alert.textContent()) !== '') refused = i;
  }
  assert.ok(refused, 'the server refused a message');
  assert.match(await alert.textContent(), /too fast/);
  assert.equal(await box.inputValue(), `message ${refused}`, 'the refused text stays in the box');
  await page.screenshot({ path: `${OUTPUT}widget-rate-limited.png` });

  // Once the chat has earned a request back, the same text goes through.
  await new Promise((resolve) => setTimeout(resolve, 5500));
  await box.press('Enter');
  await panel.getByRole('log').getByText(`message ${refused}`, { exact: true }).waitFor();
  await eventually('the message box to empty', async () => (await box.inputValue()) === '');
  assert.equal(await alert.textContent(), '');
});

test('widget: a stored token the server does not know leads to the start form', async (t) => {
  // A rejected token may be answered with an HTTP error status, which Chromium logs.
  const { page } = await openPage(t, { allowConsole: (text) => text.startsWith('Failed to load resource') });
  await page.addInitScript((key) => {
    if (!sessionStorage.getItem('seeded')) {
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem(key, 'made-up-token');
    }
  }, tokenKey());
  await page.goto(`${server.url}/webchat/demo`);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  await page.getByRole('dialog').getByLabel('Your message').waitFor();
  assert.equal(await storedToken(page), null);
});

test('widget: keyboard only, on a phone-sized screen', async (t) => {
  const { page } = await openPage(t);
  await page.setViewportSize({ width: 390, height: 740 });
  await page.goto(`${server.url}/webchat/demo`);
  await page.getByRole('button', { name: 'Chat with us' }).focus();
  await page.keyboard.press('Enter');
  const panel = page.getByRole('dialog', { name: 'Chat with us' });
  await panel.waitFor();
  // Focus moves into the panel; Escape closes it and gives focus back to the launcher.
  assert.equal(await page.evaluate(() => document.querySelector('agentdesk-webchat').shadowRoot.activeElement?.id), 'adw-name');
  await page.screenshot({ path: `${OUTPUT}widget-phone.png` });
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await page.getByRole('button', { name: 'Chat with us' }).getAttribute('aria-expanded'), 'false');
  assert.equal(
    await page.evaluate(() => document.querySelector('agentdesk-webchat').shadowRoot.activeElement?.className),
    'launcher',
  );
});
