// Outbound email in the browser (E3, O3), sent over real SMTP to the demo's mail catcher:
// Send stays disabled, saying why, until there is exactly one valid recipient and a subject
// that is not only whitespace; the rich-text body (bold) goes out as HTML.
import assert from 'node:assert/strict';
import { test, before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, eventually } from './browser.mjs';
import { openPage, signIn } from './desk.mjs';
import { graphql, startServer } from './server.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('E3 O3: Initiate email interaction in the browser, sent through SMTP', async (t) => {
  const { page } = await openPage(browser, t);
  await signIn(server, t, page, 'alice');
  await page.getByRole('button', { name: 'New' }).click();
  await page.getByRole('menuitem', { name: 'Initiate email interaction' }).click();
  const dialog = page.getByRole('dialog', { name: 'Initiate email interaction' });
  const send = dialog.getByRole('button', { name: /Send|Start/ });
  const to = dialog.getByRole('textbox', { name: 'To' });
  await to.fill('ana@example.com, bo@example.com');
  t.diagnostic(`two recipients: Send disabled=${await send.getAttribute('aria-disabled')}; says: ${(await dialog.innerText()).split('\n').filter((l) => /one|address|recipient|subject/i.test(l)).join(' | ')}`);
  assert.equal(await send.getAttribute('aria-disabled'), 'true');
  await to.fill('ana@example.com');
  await dialog.getByRole('textbox', { name: 'Subject' }).fill('   ');
  t.diagnostic(`blank subject: Send disabled=${await send.getAttribute('aria-disabled')}`);
  assert.equal(await send.getAttribute('aria-disabled'), 'true');
  await dialog.getByRole('textbox', { name: 'Subject' }).fill('Your order A-1009');
  const body = dialog.getByRole('textbox', { name: 'Message' });
  await body.click();
  await page.keyboard.type('Hello Ana, ');
  await page.keyboard.press('Control+b');
  await page.keyboard.type('your order has shipped');
  await page.keyboard.press('Control+b');
  await page.keyboard.type('.');
  assert.equal(await send.getAttribute('aria-disabled'), 'false');
  await send.click();
  await page.getByRole('heading', { level: 2, name: /ana@example.com/ }).waitFor();
  const admin = await graphql(server, 'mutation { login(input:{username:"admin", password:"demo"}) { token } }');
  const token = admin.data.login.token;
  const state = await eventually('the email SENT', async () => {
    const r = await graphql(server, '{ interactions(first: 5, filter: {channels: [EMAIL]}) { edges { node { id channel state transcript(first: 5) { edges { node { from delivery email { subject to html } } } } } } } }', {}, token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const m = r.data?.interactions?.edges?.flatMap((e) => e.node.transcript.edges.map((x) => x.node)).find((x) => x.from === 'AGENT');
    return m && m.delivery === 'SENT' && m;
  }, 20_000);
  t.diagnostic(`sent: ${JSON.stringify(state.email)}`);
  assert.match(state.email.html, /<strong>your order has shipped<\/strong>/);
});
