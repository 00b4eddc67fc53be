/* global window -- used inside page.evaluate callbacks, which run in the browser */
// Issue 13 on a fresh install (no -demo): the first supervisor, made with the command line,
// sets up a plan, an agent and a canned response through the API, and watches the live view
// while a webchat waits, is offered and is taken, without reloading. The agent inserts the
// canned response with the keyboard, and changes their password, which ends their other session.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { eventually, launchChromium, OUTPUT } from './browser.mjs';
import { acceptOffer, contactStarts, goReady, openPage } from './desk.mjs';
import { binary, graphql, login, startServer } from './server.mjs';

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

/** `agentdesk add-agent -supervisor`, the password on stdin, as an operator makes the first one. */
function addSupervisor(username, password) {
  const args = ['add-agent', '-supervisor', '-data', server.data, '-username', username, '-name', 'Bea Boss'];
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, (error, stdout, stderr) => {
      if (error) reject(new Error(`agentdesk ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim());
    });
    child.stdin.end(`${password}\n`);
  });
}

/** A mutation whose payload has userErrors: fails on any error, returns the payload. */
async function mutate(token, field, query, variables) {
  const body = await graphql(server, query, variables, token);
  const payload = body.data?.[field];
  assert.ok(payload && !body.errors, `${field}: ${JSON.stringify(body)}`);
  assert.deepEqual(payload.userErrors, [], `${field}: ${JSON.stringify(body)}`);
  return payload;
}

async function signInAs(page, username, password) {
  await page.goto(`${server.url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('radiogroup', { name: 'Presence' }).waitFor();
}

/** The text a live-view cell shows (its words for screen readers left out). */
function shown(row, col) {
  return row.locator(`[data-col="${col}"]`).evaluate((cell) => {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll('.visually-hidden').forEach((n) => n.remove());
    return copy.textContent.trim();
  });
}

const seconds = (clock) => clock.split(':').reduce((total, part) => total * 60 + Number(part), 0);

test('the supervisor watches a webchat wait and be taken, live; the agent uses a canned response and changes their password', async (t) => {
  const BOSS_PASSWORD = 'boss-password-1';
  const AMY_PASSWORD = 'amy-password-1';
  const REFUND = 'Refunds reach your card within 5 working days.';

  // First run: the supervisor from the command line, everything else through the API.
  await addSupervisor('boss', BOSS_PASSWORD);
  const boss = await login(server, 'boss', BOSS_PASSWORD);
  const { plan } = await mutate(
    boss,
    'createPlan',
    'mutation ($input: PlanInput!) { createPlan(input: $input) { plan { id name } userErrors { code message field } } }',
    { input: { name: 'Support', channels: ['WEBCHAT'] } },
  );
  await mutate(
    boss,
    'createAgent',
    'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } userErrors { code message field } } }',
    {
      input: {
        username: 'amy',
        name: 'Amy Agent',
        password: AMY_PASSWORD,
        planIds: [plan.id],
        capacity: [{ channel: 'WEBCHAT', max: 2 }],
      },
    },
  );
  await mutate(
    boss,
    'saveCannedResponse',
    'mutation ($input: CannedResponseInput!) { saveCannedResponse(input: $input) { cannedResponse { id } userErrors { code message field } } }',
    { input: { title: 'Refund timeline', text: REFUND, planId: plan.id } },
  );
  // Amy's other session (a script, another browser): her password change ends it.
  const amyElsewhere = await login(server, 'amy', AMY_PASSWORD);

  // The supervisor opens the live view.
  const { page: sup } = await openPage(browser, t, { viewport: { width: 1400, height: 900 } });
  await signInAs(sup, 'boss', BOSS_PASSWORD);
  await sup.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Live view' }).click();
  const queues = sup.getByRole('table', { name: 'Queues' });
  const agents = sup.getByRole('table', { name: 'Agents' });
  const supportRow = queues.getByRole('row', { name: /^Support/ });
  const amyRow = agents.getByRole('row', { name: /^Amy Agent/ });
  await supportRow.waitFor();
  await amyRow.waitFor();
  await sup.getByRole('status').filter({ hasText: /^Live$/ }).waitFor();
  assert.equal(await shown(supportRow, 'waiting'), '0');
  // Not reloaded from here on: this mark would be gone.
  await sup.evaluate(() => {
    window.stillTheSamePage = true;
  });

  // A webchat arrives while Amy is not ready: it waits, and the oldest wait runs.
  const contact = await contactStarts(server, { name: 'Sam Visitor', text: 'Where is my refund?', plan: plan.id });
  await eventually('waiting 1', async () => (await shown(supportRow, 'waiting')) === '1');
  const firstWait = seconds(await shown(supportRow, 'oldest'));
  await eventually('the oldest wait to tick', async () => seconds(await shown(supportRow, 'oldest')) >= firstWait + 2, 5_000);
  await sup.screenshot({ path: `${OUTPUT}live-view-waiting.png` });

  // Amy signs in, goes Ready and accepts: the queue empties and her load rises, live.
  const { page: amy } = await openPage(browser, t);
  await signInAs(amy, 'amy', AMY_PASSWORD);
  await goReady(amy);
  await acceptOffer(amy, 'Sam Visitor');

  await eventually('waiting 0, active 1', async () =>
    (await shown(supportRow, 'waiting')) === '0' && (await shown(supportRow, 'active')) === '1',
  );
  assert.equal(await shown(supportRow, 'oldest'), '–');
  assert.equal(await shown(supportRow, 'ready'), '1');
  await amyRow.locator('[data-col="load"]').getByText('Chat: 1 of 2 in use').waitFor();
  assert.match(await shown(amyRow, 'presence'), /^Ready for \d+:\d\d$/);
  const held = amyRow.getByRole('list', { name: 'Amy Agent’s interactions' });
  // The chat is listed with its channel, contact and state: accepting changed no agent record,
  // but the server sends Amy again when an interaction she holds changes state.
  await eventually('Amy to hold the chat, active', async () =>
    /Chat.*Sam Visitor.*Active/.test((await held.getByRole('listitem').textContent()) ?? ''),
  );
  assert.equal(await sup.evaluate(() => window.stillTheSamePage), true, 'the live view was not reloaded');
  await sup.screenshot({ path: `${OUTPUT}live-view-taken.png` });

  // Amy answers with the canned response, by keyboard only.
  const reply = amy.getByRole('textbox', { name: 'Reply' });
  await reply.focus();
  await amy.keyboard.type('/refund');
  const list = amy.getByRole('listbox', { name: 'Canned responses' });
  await list.getByRole('option', { name: /Refund timeline/ }).waitFor();
  await amy.keyboard.press('ArrowDown');
  await eventually('the response to be chosen', () => reply.getAttribute('aria-activedescendant'));
  await amy.keyboard.press('Enter');
  await eventually('the response in the reply box', async () => (await reply.inputValue()) === REFUND);
  assert.equal(await list.count(), 0, 'the list closed');
  await amy.screenshot({ path: `${OUTPUT}canned-response-inserted.png` });
  await amy.keyboard.press('Enter');
  await eventually('the contact to receive it', async () => {
    const chat = await contact.view();
    return chat.messages.edges.some((e) => e.node.from === 'AGENT' && e.node.text === REFUND);
  });

  // Amy changes her password: her other session ends, this one stays.
  const before = await graphql(server, '{ me { id } }', undefined, amyElsewhere);
  assert.ok(before.data?.me?.id, JSON.stringify(before));
  await amy.getByRole('button', { name: 'Change password' }).click();
  const dialog = amy.getByRole('dialog', { name: 'Change password' });
  await dialog.getByLabel('Current password', { exact: true }).fill(AMY_PASSWORD);
  await dialog.getByLabel('New password', { exact: true }).fill('short');
  await dialog.getByText('At least 8 characters: 3 more.').waitFor();
  await dialog.getByLabel('New password', { exact: true }).fill('amy-password-2');
  await dialog.getByLabel('Confirm new password').fill('amy-password-2');
  await dialog.getByRole('button', { name: 'Change password' }).click();
  const done = amy.getByRole('dialog', { name: 'Password changed' });
  await done.getByText(/Every other session of yours was signed out/).waitFor();
  await amy.screenshot({ path: `${OUTPUT}password-changed.png` });
  await done.getByRole('button', { name: 'Close' }).click();

  const elsewhere = await graphql(server, '{ me { id } }', undefined, amyElsewhere);
  assert.ok(
    elsewhere.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') || elsewhere.data?.me == null,
    `the other session still works: ${JSON.stringify(elsewhere)}`,
  );
  // This session goes on, and the new password signs in.
  await amy.getByRole('radiogroup', { name: 'Presence' }).waitFor();
  assert.ok(await login(server, 'amy', 'amy-password-2'));
});
