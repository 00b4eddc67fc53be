/* global document -- used inside page.evaluate callbacks, which run in the browser */
// Two supervisors edit the same plan in the Admin screens at once: the second save gets
// CONFLICT, sees the current values and re-applies their own change over them; nothing is
// overwritten silently. The audit log then lists both changes, newest first, with before and
// after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OUTPUT } from './browser.mjs';
import { openPage, planId, setUpDesk } from './desk.mjs';
import { graphql, login } from './server.mjs';

let server;
let browser;

setUpDesk(async (desk) => {
  ({ server, browser } = desk);
});

async function openPlan(t, name) {
  const { page } = await openPage(browser, t);
  await page.goto(`${server.url}/`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('tablist', { name: 'Administration' }).getByRole('tab', { name: 'Plans' }).click();
  await page.getByRole('link', { name: `Edit ${name}` }).click();
  const form = page.getByRole('form', { name: `Plan ${name}` });
  await form.waitFor();
  return { page, form };
}

test('plan edit conflict: the second save shows the current values and re-applies only its own change; the audit log lists both', async (t) => {
  const a = await openPlan(t, 'Sales');
  const b = await openPlan(t, 'Sales');

  // A: offer timeout 30 → 45, saved.
  await a.form.getByRole('textbox', { name: 'Offer timeout seconds' }).fill('45');
  await a.form.getByRole('button', { name: 'Save changes' }).click();
  await a.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

  // B, loaded before A saved: wrap 60 → 90. Out of range first: said as they type.
  const wrap = b.form.getByRole('textbox', { name: 'Wrap seconds' });
  await wrap.fill('4000');
  await b.form.getByText('Enter a number from 0 to 3600.').waitFor();
  assert.equal(await wrap.getAttribute('aria-invalid'), 'true');
  await wrap.fill('90');
  await b.form.getByRole('button', { name: 'Save changes' }).click();
  const conflict = b.page.getByRole('alert').filter({ hasText: 'Changed by someone else' });
  await conflict.waitFor();
  const current = conflict.getByRole('definition');
  assert.match(await conflict.textContent(), /Offer timeout45 s/);
  assert.match(await conflict.textContent(), /Wrap timer60 s/);
  assert.ok((await current.count()) >= 8, 'every setting is shown');
  assert.equal(await b.page.evaluate(() => document.activeElement?.closest('[role=alert]') !== null), true, 'the notice takes the focus');
  await b.page.screenshot({ path: `${OUTPUT}admin-plan-conflict.png`, fullPage: true });

  // Nothing of B's was saved.
  const token = await login(server, 'admin');
  const sales = await planId(server, token, 'Sales');
  const read = async () =>
    (await graphql(server, 'query ($id: ID!) { node(id: $id) { ... on InteractionPlan { offerTimeoutSeconds wrapSeconds version } } }', { id: sales }, token))
      .data.node;
  assert.deepEqual({ ...(await read()), version: undefined }, { offerTimeoutSeconds: 45, wrapSeconds: 60, version: undefined });

  // B re-applies: their wrap change over A's offer timeout.
  await conflict.getByRole('button', { name: 'Re-apply my changes' }).click();
  await b.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await conflict.waitFor({ state: 'detached' });
  const after = await read();
  assert.equal(after.offerTimeoutSeconds, 45);
  assert.equal(after.wrapSeconds, 90);
  assert.equal(await b.form.getByRole('textbox', { name: 'Offer timeout seconds' }).inputValue(), '45');

  // The audit log, plans only, newest first: B's change, then A's, with before and after.
  await b.page.getByRole('tablist', { name: 'Administration' }).getByRole('tab', { name: 'Audit log' }).click();
  await b.page.getByRole('combobox', { name: 'Show changes to' }).selectOption({ label: 'Plans' });
  const entries = b.page.getByRole('list', { name: 'Changes, newest first' }).getByRole('article', { name: 'plan.update Sales' });
  await entries.nth(1).waitFor();
  const row = (entry, field) => entry.getByRole('row', { name: new RegExp(`^${field}`) });
  assert.deepEqual(await row(entries.nth(0), 'wrapSeconds').getByRole('cell').allTextContents(), ['60', '90']);
  assert.deepEqual(await row(entries.nth(1), 'offerTimeoutSeconds').getByRole('cell').allTextContents(), ['30', '45']);
  assert.equal(await row(entries.nth(0), 'offerTimeoutSeconds').count(), 0, 'only what changed');
  assert.match(await entries.nth(0).textContent(), /by .*\(admin\)/);
  await b.page.screenshot({ path: `${OUTPUT}admin-audit-log.png`, fullPage: true });
});

test('agents: search and pages; disabling asks first and signs the agent out. Canned responses: create, edit, delete. The audit log loads more', async (t) => {
  const token = await login(server, 'admin');
  const sales = await planId(server, token, 'Sales');
  // 21 agents to page through, and 26 canned responses for more than one page of the log.
  for (let i = 1; i <= 21; i++) {
    const body = await graphql(
      server,
      'mutation ($input: CreateAgentInput!) { createAgent(input: $input) { userErrors { message } } }',
      { input: { username: `temp${String(i).padStart(2, '0')}`, name: `Temp ${i}`, password: 'temp-password' } },
      token,
    );
    assert.deepEqual(body.data?.createAgent?.userErrors, [], JSON.stringify(body));
  }
  for (let i = 1; i <= 26; i++) {
    const body = await graphql(
      server,
      'mutation ($input: CannedResponseInput!) { saveCannedResponse(input: $input) { userErrors { message } } }',
      { input: { title: `Bulk ${i}`, text: `Bulk text ${i}` } },
      token,
    );
    assert.deepEqual(body.data?.saveCannedResponse?.userErrors, [], JSON.stringify(body));
  }
  const temp21 = await login(server, 'temp21', 'temp-password');

  const { page } = await openPage(browser, t);
  await page.goto(`${server.url}/#/admin/agents`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const panel = page.getByRole('tabpanel', { name: 'Agents' });
  await panel.getByRole('searchbox', { name: 'Search agents' }).fill('temp');
  await panel.getByRole('status').filter({ hasText: '1–20 of 21' }).waitFor();
  assert.equal(await panel.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
  await panel.getByRole('button', { name: 'Next page' }).click();
  await panel.getByRole('status').filter({ hasText: '21–21 of 21' }).waitFor();
  assert.equal(await panel.getByRole('row').filter({ hasText: 'temp21' }).count(), 1);

  // Disable temp21: the confirmation says what happens; their session ends.
  await panel.getByRole('link', { name: 'Edit Temp 21' }).click();
  await panel.getByRole('button', { name: 'Disable agent…' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Disable Temp 21?' });
  await confirm.getByText('signed out at once', { exact: false }).waitFor();
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  await panel.getByRole('button', { name: 'Disable agent…' }).click();
  await confirm.getByRole('button', { name: 'Disable agent' }).click();
  await panel.getByRole('status').filter({ hasText: 'Temp 21 is disabled and signed out.' }).waitFor();
  const me = await graphql(server, '{ me { id } }', undefined, temp21);
  assert.ok(me.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' || me.data?.me === null, `signed out: ${JSON.stringify(me)}`);

  // Canned responses: create one for Sales, edit it, delete it.
  await page.getByRole('tablist', { name: 'Administration' }).getByRole('tab', { name: 'Canned responses' }).click();
  const canned = page.getByRole('tabpanel', { name: 'Canned responses' });
  await canned.getByRole('button', { name: 'New response' }).click();
  const form = canned.getByRole('form', { name: 'New canned response' });
  await form.getByRole('button', { name: 'Create response' }).click();
  await form.getByText('Enter the title agents search for.').waitFor();
  await form.getByRole('textbox', { name: 'Title' }).fill('Refund timeline');
  await form.getByRole('textbox', { name: 'Text' }).fill('Refunds reach your account within 5 working days.');
  await form.getByRole('combobox', { name: 'Available in' }).selectOption({ label: 'Sales' });
  await form.getByRole('button', { name: 'Create response' }).click();
  const row = canned.getByRole('row').filter({ hasText: 'Refund timeline' });
  await row.filter({ hasText: 'Sales' }).waitFor();
  await row.getByRole('button', { name: 'Edit Refund timeline' }).click();
  const edit = canned.getByRole('form', { name: 'Edit Refund timeline' });
  await edit.getByRole('textbox', { name: 'Text' }).fill('Refunds reach your account within 3 working days.');
  await edit.getByRole('button', { name: 'Save response' }).click();
  await row.filter({ hasText: '3 working days' }).waitFor();
  const stored = await graphql(server, '{ cannedResponses(search: "Refund") { text plan { id } } }', undefined, token);
  assert.deepEqual(stored.data.cannedResponses, [{ text: 'Refunds reach your account within 3 working days.', plan: { id: sales } }]);
  await row.getByRole('button', { name: 'Delete Refund timeline' }).click();
  await page.getByRole('alertdialog', { name: 'Delete “Refund timeline”?' }).getByRole('button', { name: 'Delete response' }).click();
  await row.waitFor({ state: 'detached' });

  // The audit log, canned responses only: a page, then Load more.
  await page.getByRole('tablist', { name: 'Administration' }).getByRole('tab', { name: 'Audit log' }).click();
  await page.getByRole('combobox', { name: 'Show changes to' }).selectOption({ label: 'Canned responses' });
  const log = page.getByRole('list', { name: 'Changes, newest first' });
  await log.getByRole('article').nth(24).waitFor();
  assert.equal(await log.getByRole('article').count(), 25);
  assert.match(await log.getByRole('article').first().textContent(), /Refund timeline/);
  await log.getByRole('button', { name: 'Load more' }).click();
  await log.getByRole('article').nth(25).waitFor();
  assert.equal(await log.getByRole('article').count(), 29, '26 creations, and the Refund timeline saved twice and deleted');
  assert.equal(await log.getByRole('button', { name: 'Load more' }).count(), 0);
  await page.screenshot({ path: `${OUTPUT}admin-audit-more.png` });
});
