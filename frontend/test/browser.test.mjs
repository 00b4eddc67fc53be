// The built SPA and playground, served by the real binary, driven in Debian's Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { graphql, login, startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
const DIST_INDEX = fileURLToPath(new URL('../dist/index.html', import.meta.url));

let server;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  if (!existsSync(DIST_INDEX)) {
    throw new Error('dist/index.html is missing: run npm run build, then rebuild bin/agentdesk');
  }
  mkdirSync(OUTPUT, { recursive: true });
  server = await startServer();
  const served = await (await fetch(`${server.url}/`)).text();
  assert.equal(
    served.trim(),
    readFileSync(DIST_INDEX, 'utf8').trim(),
    'bin/agentdesk embeds another frontend build than dist/: after npm run build, run ' +
      'cd /work/main && go build -o bin/agentdesk ./cmd/agentdesk',
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh browser context and page that fail the test on uncaught errors or console errors. */
async function openPage(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
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

async function presenceOf(username) {
  const token = await login(server, username);
  const body = await graphql(server, '{ me { presence } }', undefined, token);
  return body.data?.me?.presence;
}

test('SPA: sign in, go Ready, sign out', async (t) => {
  const { page } = await openPage(t);
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
  const { page } = await openPage(t);
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
  const { page } = await openPage(t);
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
  const { context, page } = await openPage(t);
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
