// The built SPA and playground, served by the real binary, driven in Debian's Chromium.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, OUTPUT } from './browser.mjs';
import {
  acceptOffer,
  card,
  contactStarts,
  endAndComplete,
  endChat,
  goReady,
  offerCard,
  openPage,
  planId,
  setUpDesk,
  signIn,
  toast,
} from './desk.mjs';
import { graphql, login } from './server.mjs';

let server;
let browser;

setUpDesk((desk) => ({ server, browser } = desk));

async function presenceOf(username) {
  const token = await login(server, username);
  const body = await graphql(server, '{ me { presence } }', undefined, token);
  return body.data?.me?.presence;
}

test('SPA: sign in, go Ready, sign out', async (t) => {
  const { page } = await openPage(browser, t);
  await page.goto(`${server.url}/`);

  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.getByText('Alice Martin').waitFor();
  await page.getByText('No conversations yet.').waitFor();
  const group = page.getByRole('radiogroup', { name: 'Presence' });
  await group.waitFor();
  await page.screenshot({ path: `${OUTPUT}spa-signed-in.png` });

  await group.getByRole('radio', { name: 'Ready', exact: true }).check();
  await page.locator('[role=radiogroup][aria-busy=false]').waitFor();
  assert.equal(await group.getByRole('radio', { name: 'Ready', exact: true }).isChecked(), true);
  await page.getByText('You are Ready: new offers will appear here.').waitFor();
  await page.screenshot({ path: `${OUTPUT}spa-ready.png` });

  assert.equal(await presenceOf('alice'), 'READY', 'the server has alice READY');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to agentdesk' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('agentdesk.token')), null);
  await page.screenshot({ path: `${OUTPUT}spa-signed-out.png` });
});

test('SPA: a wrong password says so', async (t) => {
  const { page } = await openPage(browser, t);
  await page.goto(`${server.url}/`);

  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(
    (await alert.textContent())?.trim(),
    'Wrong username or password. Check both and try again.',
  );
  assert.equal(await page.evaluate(() => localStorage.getItem('agentdesk.token')), null);
  await page.screenshot({ path: `${OUTPUT}spa-wrong-password.png` });
});

test('SPA: a stored token the server rejects leads back to sign-in, on any path', async (t) => {
  const { page } = await openPage(browser, t);
  await page.addInitScript(() => {
    if (!sessionStorage.getItem('seeded')) {
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem('agentdesk.token', 'revoked-or-made-up');
    }
  });
  // An unknown non-API path is served the SPA too.
  await page.goto(`${server.url}/desk/some/deep/link`);

  await page.getByRole('heading', { name: 'Sign in to agentdesk' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('agentdesk.token')), null);
});

test('playground: query and subscription without leaving 127.0.0.1', async (t) => {
  const { context, page } = await openPage(browser, t);
  const blocked = [];
  const requested = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== '127.0.0.1') {
      blocked.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  context.on('request', (request) => requested.push(request.url()));
  page.on('websocket', (socket) => requested.push(socket.url()));

  await page.goto(`${server.url}/playground`);
  await page.getByRole('heading', { name: /playground/ }).waitFor();

  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.getByLabel('Username').fill('alice');
  await signIn.getByLabel('Password').fill('demo');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as Alice Martin').waitFor();
  const headers = JSON.parse(await page.getByLabel('Headers (JSON)').inputValue());
  assert.match(headers.Authorization, /^Bearer \S+$/);

  // The schema panel lists root fields from introspection.
  const schema = page.getByRole('complementary', { name: 'Schema' });
  await schema.getByText('interactionPlans').waitFor();

  await page.getByLabel('Operation', { exact: true }).fill('{ me { name } }');
  await page.getByRole('button', { name: 'Run query' }).click();
  const result = page.getByTestId('result');
  await result.getByText('Alice Martin').waitFor();
  assert.deepEqual(JSON.parse(await result.textContent()), { data: { me: { name: 'Alice Martin' } } });
  await page.screenshot({ path: `${OUTPUT}playground-query.png` });

  await page.getByLabel('Operation', { exact: true }).fill('subscription { offers { kind } }');
  await page.keyboard.press('Control+Enter');
  await page.getByText('Connected: listening for events').waitFor();
  await page.waitForTimeout(500);
  assert.equal(await page.getByText('Connected: listening for events').count(), 1, 'still open');
  assert.equal(await page.getByRole('alert').count(), 0, 'no error');
  await page.screenshot({ path: `${OUTPUT}playground-subscription.png` });
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByText('Stopped').waitFor();

  // A token the server refuses closes the socket with 4403, and the playground says so.
  await page.getByLabel('Headers (JSON)').fill('{"Authorization": "Bearer made-up"}');
  await page.getByRole('button', { name: 'Run subscription' }).click();
  const failure = page.getByRole('alert');
  await failure.waitFor();
  assert.match(await failure.textContent(), /^Connection closed: 4403/);
  await page.screenshot({ path: `${OUTPUT}playground-refused.png` });

  assert.deepEqual(blocked, [], 'no request tried to leave 127.0.0.1');
  assert.ok(requested.some((url) => url.startsWith('ws://127.0.0.1')), 'the subscription used the websocket');
  for (const url of requested) assert.equal(new URL(url).hostname, '127.0.0.1', url);
});

// ---------------------------------------------------------------------------------------------
// Agent workspace flows. The customer is played over plain HTTP with the webchat contact API.

test('workspace P1 P3 H1 H2 H3 W1 W3 W5: offer, accept, reply with Enter, notes and code, end with duration, wrap, complete', async (t) => {
  const { context, page } = await openPage(browser, t);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await signIn(server, t, page, 'bob');
  await goReady(page);
  await page.getByText('You are Ready: new offers will appear here.').waitFor();
  const capacity = page.getByRole('list', { name: 'Capacity in use' });
  await capacity.getByText('Chat 0/4').waitFor();

  const customer = await contactStarts(server, { name: 'Jane Customer', text: 'Hello, I need help with my order' });

  // The offer card, with its countdown and both answers (P3, P5).
  const offer = offerCard(page, 'Jane Customer');
  await offer.waitFor();
  const countdown = await offer.getByRole('timer').textContent();
  assert.match(countdown, /^0:[0-3]\d$/);
  assert.equal(await offer.getByRole('button', { name: 'Reject' }).count(), 1);
  await offer.getByText('Hello, I need help with my order').waitFor();
  await capacity.getByText('Chat 1/4').waitFor();
  await page.screenshot({ path: `${OUTPUT}spa-offer.png` });

  await acceptOffer(page, 'Jane Customer');
  const transcript = page.getByRole('region', { name: 'Transcript with Jane Customer' });
  await transcript.getByText('Hello, I need help with my order').waitFor();

  // The customer writes; it appears live, and on the card.
  await customer.says('Order 1234 never arrived.');
  await transcript.getByText('Order 1234 never arrived.').waitFor();
  await card(page, 'Jane Customer').getByText('Order 1234 never arrived.').waitFor();

  // H1: Shift+Enter adds a line, Enter sends.
  const reply = page.getByRole('textbox', { name: 'Reply' });
  await reply.click();
  await page.keyboard.type('Sorry to hear that!');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('Let me check order 1234.');
  assert.equal(await reply.inputValue(), 'Sorry to hear that!\nLet me check order 1234.');
  await page.keyboard.press('Enter');
  await transcript.getByText('Let me check order 1234.').waitFor();
  // The box empties once the server accepted the reply, which may be just after it shows.
  await eventually('the reply box to empty', async () => (await reply.inputValue()) === '');
  const seen = await eventually('the reply to reach the customer', async () => {
    const view = await customer.view();
    return view.messages.edges.find((e) => e.node.from === 'AGENT') && view;
  });
  assert.deepEqual(
    seen.messages.edges.map((e) => e.node.text),
    [
      'Hello, I need help with my order',
      'Bob Okafor joined the chat',
      'Order 1234 never arrived.',
      'Sorry to hear that!\nLet me check order 1234.',
    ],
  );
  assert.equal(seen.agentName, 'Bob Okafor');

  // H2: a code and notes while active.
  await page.getByRole('combobox', { name: 'Disposition code' }).selectOption({ label: 'Escalated' });
  await page.getByRole('textbox', { name: 'Notes' }).fill('Parcel lost by the carrier.');
  await page.getByText('Saved', { exact: true }).waitFor();

  // H3: the Interaction ID, with a Copy button.
  await page.getByRole('tab', { name: 'Metadata' }).click();
  assert.equal((await page.getByTestId('interaction-id').textContent()).trim(), customer.id);
  await page.getByRole('button', { name: 'Copy Interaction ID' }).click();
  await page.getByText('Copied').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), customer.id);
  await page.screenshot({ path: `${OUTPUT}spa-conversation.png` });

  // W1: End asks first and shows the duration so far.
  await page.getByRole('button', { name: 'End chat' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'End this chat?' });
  await confirm.waitFor();
  assert.match(await confirm.textContent(), /Total duration so far with Jane Customer: \d+ s/);
  await page.screenshot({ path: `${OUTPUT}spa-end-confirm.png` });
  await confirm.getByRole('button', { name: 'End chat' }).click();

  // WRAP: who ended it and the total duration; the wrap panel with a countdown (Sales: 60 s).
  await page.getByText(/^Chat ended by you · Total duration \d+ s$/).waitFor();
  const wrap = page.getByRole('region', { name: 'Wrap up' });
  await wrap.waitFor();
  await card(page, 'Jane Customer').getByText('Wrap', { exact: true }).waitFor();
  assert.equal(await reply.isDisabled(), true, 'no replies after the end');
  const left = await wrap.getByRole('timer').textContent();
  assert.match(left, /^(1:00|0:[0-5]\d)$/);
  const codes = wrap.getByRole('group', { name: /Disposition codes/ });
  assert.equal(await codes.getByRole('checkbox', { name: 'Escalated' }).isChecked(), true);
  await codes.getByRole('checkbox', { name: 'Sale made' }).check();
  await eventually('the Sale made code to be locked', async () => (await codes.getByRole('checkbox', { name: 'Sale made' }).isDisabled()));
  await page.waitForTimeout(1500);
  await wrap.getByRole('button', { name: 'Extend' }).click();
  await wrap.getByRole('timer').filter({ hasText: /^(1:00|0:59)$/ }).waitFor();
  await page.screenshot({ path: `${OUTPUT}spa-wrap.png` });

  // W5: Complete saves everything and removes the card.
  await wrap.getByRole('button', { name: 'Complete' }).click();
  await card(page, 'Jane Customer').waitFor({ state: 'detached' });
  await page.getByText('No conversations yet.').waitFor();
  await capacity.getByText('Chat 0/4').waitFor();
  await page.screenshot({ path: `${OUTPUT}spa-completed.png` });

  const token = await page.evaluate(() => localStorage.getItem('agentdesk.token'));
  const stored = await graphql(
    server,
    'query ($id: ID!) { interaction(id: $id) { state notes endedBy dispositions { code } } }',
    { id: customer.id },
    token,
  );
  assert.deepEqual(stored.data.interaction, {
    state: 'COMPLETED',
    notes: 'Parcel lost by the carrier.',
    endedBy: 'AGENT',
    dispositions: [{ code: 'ESCALATED' }, { code: 'SALE' }],
  });
});

test('workspace W2: a chat the customer ends while another is in focus: toast with Open…, flashing wrap badge', async (t) => {
  const { page } = await openPage(browser, t);
  await signIn(server, t, page, 'carol');
  await goReady(page);

  const first = await contactStarts(server, { name: 'First Customer', text: 'First question' });
  await acceptOffer(page, 'First Customer');
  const second = await contactStarts(server, { name: 'Second Customer', text: 'Second question' });
  await acceptOffer(page, 'Second Customer');
  // Back to the first chat: the second is not in focus.
  await card(page, 'First Customer').click();
  await page.getByRole('heading', { level: 2, name: 'First Customer' }).waitFor();

  assert.equal((await second.ends()).endedBy, 'CONTACT');

  const ended = toast(page, 'Chat ended by the webchat widget: Second Customer');
  await ended.waitFor();
  const badge = card(page, 'Second Customer').getByText('Wrap', { exact: true });
  await badge.waitFor();
  assert.equal(await badge.getAttribute('data-flash'), 'true');
  await page.screenshot({ path: `${OUTPUT}spa-contact-ended.png` });

  await ended.getByRole('button', { name: 'Open…' }).click();
  await page.getByRole('heading', { level: 2, name: 'Second Customer' }).waitFor();
  await page.getByText(/^Chat ended by the contact · Total duration/).waitFor();
  assert.equal(await badge.getAttribute('data-flash'), null, 'opening it stops the flashing');
  await page.getByRole('region', { name: 'Wrap up' }).getByRole('button', { name: 'Complete' }).click();
  await card(page, 'Second Customer').waitFor({ state: 'detached' });

  // Clean up: end and complete the first chat too.
  await card(page, 'First Customer').click();
  await endAndComplete(page, 'First Customer');
  assert.equal((await first.view()).state, 'COMPLETED');
});

test('workspace W3: with required codes, Complete is disabled with the reason until a code is chosen', async (t) => {
  const { page } = await openPage(browser, t);
  const token = await signIn(server, t, page, 'admin');
  await goReady(page);

  const support = await planId(server, token, 'Support');
  const customer = await contactStarts(server, { name: 'Support Customer', text: 'My router is broken', plan: support });
  await acceptOffer(page, 'Support Customer');
  await endChat(page);

  const wrap = page.getByRole('region', { name: 'Wrap up' });
  const complete = wrap.getByRole('button', { name: 'Complete' });
  await complete.waitFor();
  assert.equal(await complete.getAttribute('aria-disabled'), 'true');
  assert.equal(await complete.isDisabled(), true);
  assert.equal(await wrap.getByRole('timer').count(), 0, 'no wrap countdown when codes are required');
  await complete.hover();
  const tooltip = page.getByRole('tooltip');
  await tooltip.waitFor({ state: 'visible' });
  assert.equal(await tooltip.textContent(), 'Choose at least one disposition code to complete: this plan requires one.');
  await page.screenshot({ path: `${OUTPUT}spa-required-code.png` });

  // Clicking the disabled button does nothing.
  await complete.click({ force: true });
  await page.waitForTimeout(300);
  assert.equal(await card(page, 'Support Customer').count(), 1);

  await wrap.getByRole('checkbox', { name: 'Resolved' }).check();
  await page.locator('.complete__button[aria-disabled=false]').waitFor();
  await complete.click();
  await card(page, 'Support Customer').waitFor({ state: 'detached' });
  assert.equal((await customer.view()).state, 'COMPLETED');
});

test('workspace resilience: the websocket drops while the customer writes; banner, then the message is there after reconnecting', async (t) => {
  const { page } = await openPage(browser, t);
  let offline = false;
  const open = [];
  await page.routeWebSocket(/\/query$/, (ws) => {
    if (offline) {
      ws.close({ code: 1001, reason: 'offline' });
      return;
    }
    const upstream = ws.connectToServer();
    open.push({ ws, upstream });
  });

  await signIn(server, t, page, 'alice');
  await goReady(page);
  const customer = await contactStarts(server, { name: 'Patchy Network', text: 'Can you hear me?' });
  await acceptOffer(page, 'Patchy Network');
  const transcript = page.getByRole('region', { name: 'Transcript with Patchy Network' });
  await transcript.getByText('Can you hear me?').waitFor();

  // Cut the connection and keep refusing new ones.
  offline = true;
  for (const { ws, upstream } of open.splice(0)) {
    await ws.close({ code: 1001, reason: 'network gone' });
    await upstream.close();
  }
  const banner = page.getByRole('alert').filter({ hasText: 'Connection lost' });
  await banner.waitFor();

  await customer.says('Written while your connection was down');
  await page.waitForTimeout(500);
  assert.equal(await transcript.getByText('Written while your connection was down').count(), 0);
  await page.screenshot({ path: `${OUTPUT}spa-reconnecting.png` });

  offline = false;
  await banner.waitFor({ state: 'detached', timeout: 15_000 });
  await transcript.getByText('Written while your connection was down').waitFor();
  await card(page, 'Patchy Network').getByText('Written while your connection was down').waitFor();
  await page.screenshot({ path: `${OUTPUT}spa-reconnected.png` });

  // Live again: a new message arrives without a reload.
  await customer.says('And now?');
  await transcript.getByText('And now?').waitFor();

  await endAndComplete(page, 'Patchy Network');
});
