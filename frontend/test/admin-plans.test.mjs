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
  await page.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name: 'Admin' }).click();
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
