// Issue 13's first run: a server started without -demo (no plans, agents or keys) reaches a
// working webchat desk through the browser alone. The first supervisor comes from the command
// line, as the README says; the plan, two agents and an API key are made in the Admin screens;
// an agent takes a webchat; revoking the key in Admin closes a CRM's open websocket.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { launchChromium, OUTPUT } from './browser.mjs';
import { acceptOffer, goReady, openPage } from './desk.mjs';
import { addAgent, graphql, startServer } from './server.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ demo: false });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signInAs(page, username, password) {
  await page.goto(`${server.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('radiogroup', { name: 'Presence' }).waitFor();
}

/** The admin area's tab `name`, chosen. */
async function openAdmin(page, name) {
  const areas = page.getByRole('navigation', { name: 'Screens' });
  if ((await areas.getByRole('link', { name: 'Admin' }).getAttribute('aria-current')) !== 'page') {
    await areas.getByRole('link', { name: 'Admin' }).click();
  }
  const tab = page.getByRole('tablist', { name: 'Administration' }).getByRole('tab', { name });
  await tab.click();
  await page.getByRole('tabpanel', { name }).waitFor();
  return page.getByRole('tabpanel', { name });
}

async function createAgent(page, { username, name, password }) {
  const panel = await openAdmin(page, 'Agents');
  await panel.getByRole('link', { name: 'New agent' }).click();
  const form = panel.getByRole('form', { name: 'New agent' });
  await form.getByRole('textbox', { name: 'Username', exact: true }).fill(username);
  await form.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('group', { name: 'Plans' }).getByRole('checkbox', { name: 'Web support' }).check();
  await form.getByRole('textbox', { name: 'Webchat' }).fill('3');
  await form.getByRole('button', { name: 'Create agent' }).click();
  // Back to the list, which shows them.
  await panel.getByRole('row').filter({ hasText: username }).filter({ hasText: 'Web support' }).waitFor();
}

test('first run: the CLI makes the supervisor; plan, agents and key in the browser; an agent takes a webchat; revoking the key closes a CRM socket', async (t) => {
  // Nothing yet: a webchat has nowhere to go.
  const refused = await graphql(server, 'mutation { startWebchat(input: { text: "hello?" }) { token userErrors { code message } } }');
  assert.notEqual(refused.data?.startWebchat?.userErrors?.length ?? refused.errors?.length ?? 0, 0, JSON.stringify(refused));

  // The README's step: the first supervisor from the command line, while the server runs.
  const out = await addAgent(server, { username: 'boss', name: 'Bea Boss', password: 'boss-password-1', supervisor: true });
  assert.match(out, /created supervisor boss/);

  const { page: boss } = await openPage(browser, t);
  await signInAs(boss, 'boss', 'boss-password-1');

  // A plan that takes webchat; the form says what is missing as the supervisor goes.
  let panel = await openAdmin(boss, 'Plans');
  await panel.getByText('No plans yet.', { exact: false }).waitFor();
  await panel.getByRole('link', { name: 'New plan' }).click();
  const planForm = panel.getByRole('form', { name: 'New plan' });
  const name = planForm.getByRole('textbox', { name: 'Name' });
  await name.fill('x');
  await name.fill('');
  await planForm.getByText('Enter the plan’s name.').waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await name.fill('Web support');
  assert.equal(await name.getAttribute('aria-invalid'), null);
  const offerTimeout = planForm.getByRole('textbox', { name: 'Offer timeout seconds' });
  await offerTimeout.fill('1000');
  await planForm.getByText('Enter a number from 5 to 600.').waitFor();
  await offerTimeout.fill('45');
  await planForm.getByRole('group', { name: 'Channels' }).getByRole('checkbox', { name: 'Webchat' }).check();
  await boss.screenshot({ path: `${OUTPUT}admin-new-plan.png`, fullPage: true });
  await planForm.getByRole('button', { name: 'Create plan' }).click();
  const planRow = panel.getByRole('row').filter({ hasText: 'Web support' });
  await planRow.waitFor();
  assert.match(await planRow.textContent(), /Webchat/);
  assert.match(await planRow.textContent(), /45 s/);

  // Two agents in it.
  await createAgent(boss, { username: 'ann', name: 'Ann Agent', password: 'ann-password-1' });
  await createAgent(boss, { username: 'ben', name: 'Ben Agent', password: 'ben-password-1' });
  panel = await openAdmin(boss, 'Agents');
  await panel.getByRole('status').filter({ hasText: 'of 3' }).waitFor();
  await boss.screenshot({ path: `${OUTPUT}admin-agents.png`, fullPage: true });

  // An API key: its secret is shown once.
  panel = await openAdmin(boss, 'API keys');
  await panel.getByRole('textbox', { name: 'Key name' }).fill('Acme CRM');
  await panel.getByRole('button', { name: 'Create key' }).click();
  const secretDialog = boss.getByRole('dialog', { name: 'API key Acme CRM created' });
  await secretDialog.getByText('you will not see it again').waitFor();
  const secret = await secretDialog.getByRole('textbox', { name: 'API key' }).inputValue();
  assert.ok(secret.length >= 20, `a secret: ${secret}`);
  await boss.screenshot({ path: `${OUTPUT}admin-api-key-secret.png` });
  await secretDialog.getByRole('button', { name: 'Done' }).click();
  await secretDialog.waitFor({ state: 'detached' });
  await panel.getByRole('row').filter({ hasText: 'Acme CRM' }).filter({ hasText: 'Never' }).waitFor();
  // The key reads over the API.
  const read = await graphql(server, '{ interactions(first: 1) { edges { node { id } } } }', undefined, secret);
  assert.equal(read.errors, undefined, JSON.stringify(read));

  // An agent signs in, goes Ready and takes a webchat.
  const { page: ann } = await openPage(browser, t);
  await signInAs(ann, 'ann', 'ann-password-1');
  assert.equal(await ann.getByRole('navigation', { name: 'Screens' }).count(), 0, 'agents see no Admin');
  await goReady(ann);
  const started = await graphql(
    server,
    'mutation ($input: StartWebchatInput!) { startWebchat(input: $input) { token userErrors { code message } } }',
    { input: { name: 'First Customer', text: 'Is anyone there?' } },
  );
  assert.deepEqual(started.data?.startWebchat?.userErrors, [], JSON.stringify(started));
  await acceptOffer(ann, 'First Customer');
  await ann.getByText('Is anyone there?', { exact: true }).waitFor();
  await ann.getByRole('list', { name: 'Capacity in use' }).getByText('Chat 1/3').waitFor();

  // A CRM holds a websocket with the key open; the supervisor revokes the key in Admin.
  const closed = new Promise((resolve) => {
    const crm = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${secret}` },
      lazy: false,
      // The close is what this test waits for, not an error to print.
      onNonLazyError: () => {},
      retryAttempts: 0,
      on: { closed: (event) => resolve(event) },
    });
    t.after(() => crm.dispose());
    // Every subscription needs a signed-in agent today, so the CRM's one is refused; the
    // socket, acknowledged with the key, stays open until the key is revoked.
    crm.subscribe({ query: 'subscription { interactionUpdates { id state } }' }, { next: () => {}, error: () => {}, complete: () => {} });
  });
  const connected = await eventuallyAcked(secret);
  assert.equal(connected, true);

  panel = await openAdmin(boss, 'API keys');
  await panel.getByRole('button', { name: 'Revoke Acme CRM' }).click();
  const confirm = boss.getByRole('alertdialog', { name: 'Revoke Acme CRM?' });
  await confirm.getByText('stops working at once').waitFor();
  await confirm.getByRole('button', { name: 'Revoke key' }).click();
  await confirm.waitFor({ state: 'detached' });
  await panel.getByRole('row').filter({ hasText: 'Acme CRM' }).filter({ hasText: 'Revoked' }).waitFor();

  const event = await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the CRM socket stayed open')), 10_000))]);
  assert.equal(event.code, 4403, `close code ${event.code} ${event.reason}`);
  assert.equal(event.reason, 'Forbidden: the API key has been revoked');
  const after = await graphql(server, '{ interactions(first: 1) { edges { node { id } } } }', undefined, secret);
  assert.equal(after.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', JSON.stringify(after));
  await boss.screenshot({ path: `${OUTPUT}admin-api-key-revoked.png`, fullPage: true });
});

/** Opens a second socket with the key and reports whether the server acknowledges it. */
async function eventuallyAcked(secret) {
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${secret}` },
    lazy: false,
    onNonLazyError: () => {},
    retryAttempts: 0,
  });
  try {
    return await new Promise((resolve) => {
      client.on('connected', () => resolve(true));
      client.on('closed', () => resolve(false));
    });
  } finally {
    await client.dispose();
  }
}
