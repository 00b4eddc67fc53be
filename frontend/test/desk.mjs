/* global document -- used inside page.waitForFunction and evaluate callbacks, which run in the browser */
// Helpers for browser tests of the agent desk against the real server: pages that fail the
// test on page errors, signing in through the form, presence, the log's cards, a webchat
// customer who uses the real widget in a browser context of their own or, where the widget is
// not the point, the contact API over HTTP, and agent replies in bulk.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './browser.mjs';
import { graphql, startServer } from './server.mjs';

const DIST_INDEX = fileURLToPath(new URL('../dist/index.html', import.meta.url));

/**
 * The agentdesk server, and another site (another origin, allowed by the server) whose
 * /contact?plan=<ID> page embeds the widget for that plan, as a customer's website would. A
 * page that Playwright fulfils itself will not do: Chromium treats it as public, and blocks its
 * websocket to 127.0.0.1 (local network access).
 */
export async function startServerWithSite() {
  let serverUrl = '';
  const http = createServer((request, response) => {
    if (!request.url.startsWith('/contact')) {
      response.writeHead(204).end(); // e.g. /favicon.ico
      return;
    }
    const plan = new URL(request.url, 'http://site').searchParams.get('plan') ?? '';
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><title>Contact us</title><h1>Contact us</h1>
      <script src="${serverUrl}/webchat/widget.js" data-plan="${plan}" async></script></html>`);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const site = { url: `http://127.0.0.1:${http.address().port}`, close: () => http.close() };
  const allowed = process.env.AGENTDESK_ALLOWED_ORIGINS;
  process.env.AGENTDESK_ALLOWED_ORIGINS = site.url;
  try {
    const server = await startServer();
    serverUrl = server.url;
    return { server, site };
  } catch (error) {
    site.close();
    throw error;
  } finally {
    if (allowed === undefined) delete process.env.AGENTDESK_ALLOWED_ORIGINS;
    else process.env.AGENTDESK_ALLOWED_ORIGINS = allowed;
  }
}

/**
 * What a desk test file needs, started before its tests and stopped after them: the server and
 * the customers' site (startServerWithSite), the server checked to embed this dist/ build, and
 * Chromium. `started` gets `{ server, site, browser }` once they run.
 */
export function setUpDesk(started) {
  let desk;
  before(async () => {
    desk = await startDesk();
    await started(desk);
  });
  after(() => desk?.stop());
}

async function startDesk() {
  if (!existsSync(DIST_INDEX)) {
    throw new Error('dist/index.html is missing: run npm run build, then rebuild bin/agentdesk');
  }
  const { server, site } = await startServerWithSite();
  let browser;
  const stop = async () => {
    await browser?.close();
    await server.stop();
    site.close();
  };
  try {
    const served = await (await fetch(`${server.url}/`)).text();
    assert.equal(
      served.trim(),
      readFileSync(DIST_INDEX, 'utf8').trim(),
      'bin/agentdesk embeds another frontend build than dist/: after npm run build, run ' +
        'cd /work/main && go build -o bin/agentdesk ./cmd/agentdesk',
    );
    browser = await launchChromium();
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, site, browser, stop };
}

/**
 * A fresh browser context and page that fail the test on uncaught errors or console errors.
 * `before` runs on the context before the page opens (e.g. to install a fake clock).
 */
export async function openPage(browser, t, { viewport = { width: 1280, height: 800 }, before } = {}) {
  const context = await browser.newContext({ viewport });
  if (before) await before(context);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
  t.after(async () => {
    await context.close();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
  return { context, page };
}

export async function setPresence(server, token, presence) {
  const body = await graphql(
    server,
    'mutation ($input: SetPresenceInput!) { setPresence(input: $input) { userErrors { code message } } }',
    { input: { presence } },
    token,
  );
  assert.deepEqual(body.data?.setPresence?.userErrors, [], JSON.stringify(body));
}

/** Signs in through the form; when the test ends the agent is set NOT_READY so no later test's
 * offer is routed to them. Returns their token. */
export async function signIn(server, t, page, username) {
  await page.goto(`${server.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('radiogroup', { name: 'Presence' }).waitFor();
  const token = await page.evaluate(() => localStorage.getItem('agentdesk.token'));
  t.after(() => setPresence(server, token, 'NOT_READY'));
  return token;
}

export async function goReady(page) {
  const ready = page.getByRole('radio', { name: 'Ready', exact: true });
  await ready.check();
  await page.locator('[role=radiogroup][aria-busy=false]').waitFor();
  assert.equal(await ready.isChecked(), true);
}

export async function planId(server, token, name) {
  const body = await graphql(server, '{ interactionPlans { id name } }', undefined, token);
  const plan = body.data?.interactionPlans?.find((p) => p.name === name);
  assert.ok(plan, `no plan ${name}: ${JSON.stringify(body)}`);
  return plan.id;
}

/** A card of the conversation log (in the tab that is shown). */
export function card(page, name) {
  return page.getByRole('navigation', { name: 'Conversation log' }).getByRole('button', { name: new RegExp(name) });
}

/** An offer card (routing's or a transfer) in the Offers region. */
export function offerCard(page, name) {
  return page.getByRole('region', { name: 'Offers' }).getByRole('article', { name });
}

/** Accepts the offer from `name` and waits until its conversation is open. */
export async function acceptOffer(page, name) {
  await offerCard(page, name).getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('heading', { level: 2, name }).waitFor();
}

/** A toast whose text matches. */
export function toast(page, text) {
  return page.getByRole('region', { name: 'Notifications' }).getByRole('status').filter({ hasText: text });
}

/** Ends the open chat, confirming it. */
export async function endChat(page) {
  await page.getByRole('button', { name: 'End chat' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'End chat' }).click();
}

/** Ends the open conversation and completes its wrap-up, choosing `code` if given. */
export async function endAndComplete(page, name, code) {
  await endChat(page);
  const wrap = page.getByRole('region', { name: 'Wrap up' });
  if (code) {
    await wrap.getByRole('checkbox', { name: code }).check();
    await page.locator('.complete__button[aria-disabled=false]').waitFor();
  }
  await wrap.getByRole('button', { name: 'Complete' }).click();
  await card(page, name).waitFor({ state: 'detached' });
}

/**
 * A webchat customer on a page of their own with the real widget: the server's demo page (whose
 * chats go to the first plan taking webchat), or, with `plan`, the site's page for that plan
 * (see startServerWithSite). Starts the chat and returns the widget's panel and a way to write.
 */
export async function customerStarts({ server, site }, browser, t, { name, text, plan }) {
  const { page } = await openPage(browser, t, { viewport: { width: 900, height: 760 } });
  await page.goto(plan ? `${site.url}/contact?plan=${plan}` : `${server.url}/webchat/demo`);
  await page.getByRole('button', { name: 'Chat with us' }).click();
  const panel = page.getByRole('dialog', { name: 'Chat with us' });
  await panel.getByLabel('Your name (optional)').fill(name);
  await panel.getByLabel('Your message').fill(text);
  await panel.getByRole('button', { name: 'Start chat' }).click();
  const log = panel.getByRole('log', { name: 'Messages' });
  await log.getByText(text).waitFor();
  const box = panel.getByRole('textbox', { name: 'Message' });
  return {
    page,
    panel,
    log,
    /** Writes a message in the widget and waits until the server has taken it. */
    async says(message) {
      await box.fill(message);
      await box.press('Enter');
      await log.getByText(message).waitFor();
      // Empty once the server took it; gone if the message ended the chat.
      await page.waitForFunction(
        () => !(document.querySelector('agentdesk-webchat').shadowRoot.querySelector('#adw-text')?.value ?? ''),
      );
    },
    /** The widget's transcript as "kind: text" lines. */
    lines: () =>
      page.locator('agentdesk-webchat .log > *').evaluateAll((nodes) =>
        nodes.map((n) => `${n.classList.contains('system') ? 'system' : n.classList[1]}: ${n.querySelector('p')?.textContent ?? n.textContent}`),
      ),
  };
}

/**
 * A webchat customer played over plain HTTP with the contact API (startWebchat, then the
 * contact's token), for tests about the desk rather than the widget. Without `plan` the chat
 * goes to the first plan taking webchat (Sales).
 */
export async function contactStarts(server, { name, text, plan }) {
  const body = await graphql(
    server,
    `mutation ($input: StartWebchatInput!) {
       startWebchat(input: $input) { token chat { id state } userErrors { code message } }
     }`,
    { input: { name, text, ...(plan ? { planId: plan } : {}) } },
  );
  const payload = body.data?.startWebchat;
  assert.ok(payload?.token, `startWebchat failed: ${JSON.stringify(body)}`);
  const { token } = payload;
  const as = (query, variables) => graphql(server, query, variables, token);
  return {
    token,
    id: payload.chat.id,
    async says(message) {
      const body = await as(
        'mutation ($input: ContactMessageInput!) { sendContactMessage(input: $input) { message { id } userErrors { code message } } }',
        { input: { text: message } },
      );
      assert.deepEqual(body.data?.sendContactMessage?.userErrors, [], JSON.stringify(body));
    },
    /** Ends the chat from the customer's side; returns it as they see it. */
    async ends() {
      const body = await as('mutation { endWebchat { chat { state endedBy } userErrors { code message } } }');
      assert.deepEqual(body.data?.endWebchat?.userErrors, [], JSON.stringify(body));
      return body.data.endWebchat.chat;
    },
    /** What the customer's own view of the chat shows (myChat). */
    async view() {
      const body = await as('{ myChat { state agentName messages(first: 100) { edges { node { from text } } } } }');
      assert.ok(body.data?.myChat, JSON.stringify(body));
      return body.data.myChat;
    },
  };
}

/** The server allows 30 aliases an operation: replies go 25 to a request, run in order. */
const REPLIES_PER_REQUEST = 25;

/** The agent replies with each of `texts`, in order, over HTTP (sendMessage has no rate limit). */
export async function agentSends(server, token, interactionId, texts) {
  for (let i = 0; i < texts.length; i += REPLIES_PER_REQUEST) {
    const batch = texts.slice(i, i + REPLIES_PER_REQUEST);
    const fields = batch.map(
      (_, k) => `m${k}: sendMessage(input: { interactionId: $id, text: $t${k} }) { userErrors { code message } }`,
    );
    const body = await graphql(
      server,
      `mutation ($id: ID!, ${batch.map((_, k) => `$t${k}: String!`).join(', ')}) { ${fields.join('\n')} }`,
      Object.fromEntries([['id', interactionId], ...batch.map((text, k) => [`t${k}`, text])]),
      token,
    );
    const errors = body.errors ?? Object.values(body.data ?? {}).flatMap((payload) => payload.userErrors);
    assert.deepEqual(errors, [], JSON.stringify(body).slice(0, 500));
  }
}
