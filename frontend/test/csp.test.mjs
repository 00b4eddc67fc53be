// The security headers in real Chromium: the SPA, the playground and the webchat demo work
// under their Content-Security-Policy with no violation, over HTTP (ws) and HTTPS (wss), and
// another site cannot frame the server's pages.
/* global document, getComputedStyle, window -- used inside page callbacks, which run in the browser */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { launchChromium, OUTPUT } from './browser.mjs';
import { acceptOffer, goReady, offerCard, signIn } from './desk.mjs';
import { startServer } from './server.mjs';

const DIST_INDEX = fileURLToPath(new URL('../dist/index.html', import.meta.url));

let server;
let browser;
/** Another origin whose /frame?src=<URL> page puts URL in an iframe. */
let framer;

before(async () => {
  if (!existsSync(DIST_INDEX)) {
    throw new Error('dist/index.html is missing: run npm run build, then rebuild bin/agentdesk');
  }
  server = await startServer();
  framer = await startFramer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  framer?.close();
});

async function startFramer() {
  const http = createServer((request, response) => {
    const src = new URL(request.url, 'http://framer').searchParams.get('src');
    if (!src) {
      response.writeHead(204).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><title>Framer</title><iframe title="framed" src="${src}"></iframe></html>`);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${http.address().port}`, close: () => http.close() };
}

/**
 * A fresh context and page that fail the test on any securitypolicyviolation event (reported
 * from every document and shadow root, before the page's own scripts run), on console errors,
 * which is where Chromium reports what CSP refused, and on uncaught errors. The page's
 * websockets are listed in `sockets`.
 */
async function strictPage(t, { ignoreHTTPSErrors = false, allowConsole = () => false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors });
  const violations = [];
  await context.exposeBinding('reportViolation', (_source, violation) => violations.push(violation));
  await context.addInitScript(() => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) => window.reportViolation(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'} in ${e.documentURI}: ${e.sample}`),
      true,
    );
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowConsole(message.text())) errors.push(`console: ${message.text()}`);
  });
  const sockets = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  t.after(async () => {
    await context.close();
    assert.deepEqual(violations, [], 'no CSP violations');
    assert.deepEqual(errors, [], 'no console or page errors');
  });
  return { context, page, sockets, violations };
}

test('SPA and widget demo: a chat from the demo page to alice, both live, under the CSP', async (t) => {
  const agent = await strictPage(t);
  const response = await agent.page.goto(`${server.url}/`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self';/, 'the SPA is served with a strict CSP');
  assert.match(csp, /frame-ancestors 'none'/);
  await signIn(server, t, agent.page, 'alice');
  await goReady(agent.page);
  await agent.page.getByText('You are Ready: new offers will appear here.').waitFor();
  assert.ok(agent.sockets.some((url) => url.startsWith('ws://127.0.0.1')), `the SPA's websocket: ${agent.sockets}`);

  const customer = await strictPage(t);
  const demo = await customer.page.goto(`${server.url}/webchat/demo`);
  assert.match(demo.headers()['content-security-policy'], /style-src 'self' 'sha256-/, 'the demo page allows its <style> by hash');
  await customer.page.getByRole('heading', { name: 'Help & support' }).waitFor();
  // The demo page's own inline <style> applies (allowed by its hash)…
  assert.equal(await customer.page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(246, 244, 238)');
  const launcher = customer.page.getByRole('button', { name: 'Chat with us' });
  await launcher.click();
  // …and so do the widget's styles in its shadow root (a constructed stylesheet).
  assert.equal(await launcher.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(36, 87, 197)');
  const panel = customer.page.getByRole('dialog', { name: 'Chat with us' });
  await panel.getByLabel('Your name (optional)').fill('Casey');
  await panel.getByLabel('Your message').fill('Does the CSP let me in?');
  await panel.getByRole('button', { name: 'Start chat' }).click();

  await offerCard(agent.page, 'Casey').waitFor();
  await acceptOffer(agent.page, 'Casey');
  const transcript = agent.page.getByRole('region', { name: 'Transcript with Casey' });
  await transcript.getByText('Does the CSP let me in?').waitFor();
  const reply = agent.page.getByRole('textbox', { name: 'Reply' });
  await reply.fill('It does.');
  await reply.press('Enter');
  const log = panel.getByRole('log', { name: 'Messages' });
  await log.getByText('It does.').waitFor();
  await panel.getByRole('textbox', { name: 'Message' }).fill('Great, thanks!');
  await panel.getByRole('textbox', { name: 'Message' }).press('Enter');
  await transcript.getByText('Great, thanks!').waitFor();
  assert.ok(customer.sockets.some((url) => url.startsWith('ws://127.0.0.1')), `the widget's websocket: ${customer.sockets}`);
  await agent.page.screenshot({ path: `${OUTPUT}csp-spa.png` });
  await customer.page.screenshot({ path: `${OUTPUT}csp-widget-demo.png` });

  await agent.page.getByRole('button', { name: 'End chat' }).click();
  await agent.page.getByRole('alertdialog', { name: 'End this chat?' }).getByRole('button', { name: 'End chat' }).click();
  await agent.page.getByRole('region', { name: 'Wrap up' }).waitFor();
});

test('playground: sign in, query, subscription under the CSP', async (t) => {
  const { page, sockets } = await strictPage(t);
  const response = await page.goto(`${server.url}/playground`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self';/);
  await page.getByRole('heading', { name: /playground/ }).waitFor();
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Username').fill('alice');
  await form.getByLabel('Password').fill('demo');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as Alice Martin').waitFor();
  await page.getByRole('complementary', { name: 'Schema' }).getByText('interactionPlans').waitFor();

  await page.getByLabel('Operation', { exact: true }).fill('{ me { name } }');
  await page.getByRole('button', { name: 'Run query' }).click();
  await page.getByTestId('result').getByText('Alice Martin').waitFor();

  await page.getByLabel('Operation', { exact: true }).fill('subscription { offers { kind } }');
  await page.keyboard.press('Control+Enter');
  await page.getByText('Connected: listening for events').waitFor();
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByText('Stopped').waitFor();
  assert.ok(sockets.some((url) => url.startsWith('ws://127.0.0.1')), `the playground's websocket: ${sockets}`);
  await page.screenshot({ path: `${OUTPUT}csp-playground.png` });
});

test('another site cannot frame the SPA, the playground or the demo page', async (t) => {
  const refused = [];
  const { page } = await strictPage(t, {
    allowConsole: (text) => {
      const refusal = /frame-ancestors|X-Frame-Options/.test(text);
      if (refusal) refused.push(text);
      return refusal;
    },
  });
  for (const path of ['/', '/playground', '/webchat/demo']) {
    refused.length = 0;
    const target = `${server.url}${path}`;
    await page.goto(`${framer.url}/frame?src=${encodeURIComponent(target)}`);
    await page.waitForLoadState('load');
    const frame = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(frame, 'the framer page has its iframe');
    // Chromium replaces a refused frame with an error page; the page itself never loads.
    assert.notEqual(frame.url(), target, `${path} was framed`);
    assert.equal(await frame.locator('#root, main').count(), 0, `${path} rendered inside the frame`);
    assert.ok(refused.some((text) => text.includes("frame-ancestors 'none'")), `${path}: ${refused.join(' | ') || 'no refusal logged'}`);
  }
});

test('over HTTPS: HSTS, and the SPA and the widget demo use wss under the CSP', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'agentdesk-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tls = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', tls.key, '-out', tls.cert,
  ]);
  const secure = await startServer({ tls });
  assert.match(secure.url, /^https:/);

  const agent = await strictPage(t, { ignoreHTTPSErrors: true });
  const customer = await strictPage(t, { ignoreHTTPSErrors: true });
  // After hooks run in order: the pages close before their server stops.
  t.after(() => secure.stop());
  const response = await agent.page.goto(`${secure.url}/`);
  assert.equal(response.headers()['strict-transport-security'], 'max-age=31536000');
  await agent.page.getByLabel('Username').fill('bob');
  await agent.page.getByLabel('Password').fill('demo');
  await agent.page.getByRole('button', { name: 'Sign in' }).click();
  await goReady(agent.page);
  await agent.page.getByText('You are Ready: new offers will appear here.').waitFor();
  assert.ok(agent.sockets.some((url) => url.startsWith('wss://127.0.0.1')), `the SPA's websocket: ${agent.sockets}`);

  await customer.page.goto(`${secure.url}/webchat/demo`);
  await customer.page.getByRole('button', { name: 'Chat with us' }).click();
  const panel = customer.page.getByRole('dialog', { name: 'Chat with us' });
  await panel.getByLabel('Your name (optional)').fill('Sam');
  await panel.getByLabel('Your message').fill('Over TLS?');
  await panel.getByRole('button', { name: 'Start chat' }).click();
  await acceptOffer(agent.page, 'Sam');
  const reply = agent.page.getByRole('textbox', { name: 'Reply' });
  await reply.fill('Over TLS.');
  await reply.press('Enter');
  await panel.getByRole('log', { name: 'Messages' }).getByText('Over TLS.').waitFor();
  assert.ok(customer.sockets.some((url) => url.startsWith('wss://127.0.0.1')), `the widget's websocket: ${customer.sockets}`);
});
