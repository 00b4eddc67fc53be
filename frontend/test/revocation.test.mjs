// Issue 10: an open desk obeys the server when its session ends. Its websocket is closed with
// 4403 and a reason, and the SPA goes back to sign-in and says why; before, the socket went on
// working with a revoked or expired token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, OUTPUT } from './browser.mjs';
import { openPage } from './desk.mjs';
import { graphql, startServer } from './server.mjs';

let server;
let browser;

before(async () => {
  // Sessions last 8 s, so the expiry happens during the test.
  server = await startServer({ args: ['-session-ttl', '8s'] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Signs alice in through the form on server (the 8-second one by default) and waits for the desk's live connection. */
async function openDesk(t, on = server) {
  const { page } = await openPage(browser, t);
  await page.goto(`${on.url}/`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('radiogroup', { name: 'Presence' }).waitFor();
  const token = await page.evaluate(() => localStorage.getItem('agentdesk.token'));
  assert.ok(token, 'signed in');
  return { page, token };
}

test('an open desk whose session expires goes back to sign-in and says why', async (t) => {
  const { page } = await openDesk(t);
  const heading = page.getByRole('heading', { name: 'Sign in to agentdesk' });
  await heading.waitFor({ timeout: 20_000 });
  await page.getByText('You were signed out: the session has expired.').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('agentdesk.token')), null);
  await page.screenshot({ path: `${OUTPUT}spa-session-expired.png` });

  // Signing in again works, and the notice is gone.
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('radiogroup', { name: 'Presence' }).waitFor();
});

test('a desk whose session is signed out elsewhere leaves at once, without a notice', async (t) => {
  // Sessions of the usual length here: on a busy machine, signing in can outlast 8 seconds,
  // and an expiry would then show its notice.
  const usual = await startServer();
  t.after(() => usual.stop());
  const { page, token } = await openDesk(t, usual);
  // The same session signs out from another client (the playground, a script).
  const body = await graphql(usual, 'mutation { logout }', undefined, token);
  assert.equal(body.data?.logout, true, JSON.stringify(body));
  await page.getByRole('heading', { name: 'Sign in to agentdesk' }).waitFor({ timeout: 5_000 });
  assert.equal(await page.getByText('You were signed out').count(), 0);
});
