// The README's "Take a call" (issue 16's acceptance): the real binary with -demo, and the
// newcomer's clicks: the demo caller page calls the desk with its voice prompt, the agent
// answers in the softphone and hears it (the caller's audio level rises), ends the call, and
// wrap-up follows with "Call ended · m:ss" (X2, W1).
import assert from 'node:assert/strict';
import { test, before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, eventually } from './browser.mjs';
import { goReady, openPage, signIn } from './desk.mjs';
import { startServer } from './server.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required'] });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('X2 W1 README "Take a call": demo page → Answer → hear the prompt → End call → wrap-up', async (t) => {
  const { page } = await openPage(browser, t);
  await signIn(server, t, page, 'alice');
  await goReady(page);
  const demo = await page.context().newPage();
  await demo.goto(`${server.url}/demo/call`);
  await demo.getByRole('button', { name: /Call the desk/ }).click();
  const softphone = page.getByRole('region', { name: 'Softphone' });
  await softphone.getByRole('status').filter({ hasText: 'Ringing' }).waitFor();
  await softphone.getByRole('button', { name: 'Answer' }).click();
  const meter = softphone.getByRole('meter', { name: "Caller's audio level" });
  const level = await eventually('the prompt is heard', async () => { const v = Number(await meter.getAttribute('value')); return v > 0.01 && v; }, 20_000);
  const packets = Number(await meter.getAttribute('data-packets'));
  t.diagnostic(`caller level ${level}, inbound packets ${packets}, call time ${await softphone.getByLabel('Call time').textContent()}`);
  await softphone.getByRole('button', { name: 'End call' }).click();
  await page.locator('.interaction__header .badge--wrap').waitFor();
  const ended = await page.getByText(/^Call ended · \d+:\d\d$/).first().textContent();
  t.diagnostic(`transcript: ${ended}; demo page says: ${(await demo.locator('body').innerText()).split('\n').filter(Boolean).slice(-3).join(' | ')}`);
  assert.match(ended, /Call ended · \d+:\d\d/);
});
