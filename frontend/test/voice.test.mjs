// The voice channel end to end (X2, W1, C4, X1): the built SPA served by the real binary with
// -demo, whose simulated caller (/demo/call) is a SIP UA on loopback inside agentdesk: it
// calls the desk's demo number, plays a steady 1 kHz tone and records what it hears (a
// Goertzel filter names the tone). Alice answers in headless Chromium, whose fake microphone
// plays a 440 Hz WAV. Audio must flow both ways: the caller hears 440 Hz, and the softphone's
// inbound packets and audio level rise. Then the caller hangs up (BYE) and the SPA shows
// "Call ended" with its duration and the wrap badge. A wrapping call keeps its agent's voice
// slot (P7), so each test signs in another agent.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, eventually, OUTPUT } from './browser.mjs';
import { acceptOffer, contactStarts, goReady, openPage, signIn } from './desk.mjs';
import { graphql, startServer } from './server.mjs';

/** A mono 16-bit WAV of a sine tone, for Chromium's fake microphone. */
async function toneWav(freq, seconds = 10, rate = 48000) {
  const samples = seconds * rate;
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * freq * i) / rate)), 44 + i * 2);
  const file = join(await mkdtemp(join(tmpdir(), 'agentdesk-tone-')), `tone${freq}.wav`);
  await writeFile(file, buf);
  return file;
}

let server;
let browser;
let wav; // the fake microphone's tone, in a temp folder of its own that after() removes

before(async () => {
  server = await startServer();
  wav = await toneWav(440);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (wav) await rm(dirname(wav), { recursive: true, force: true });
});

async function caller(path, method = 'GET') {
  const response = await fetch(`${server.url}/demo/call/api/${path}`, { method });
  const body = await response.json();
  assert.equal(response.status, 200, `demo caller ${path}: ${JSON.stringify(body)}`);
  return body;
}

test('a call from the SIP caller: answered in the softphone, audio both ways, the caller hangs up and wrap-up follows', async (t) => {
  const { page } = await openPage(browser, t);
  await signIn(server, t, page, 'alice');
  await goReady(page);

  await caller('dial?tone=1000', 'POST');
  const softphone = page.getByRole('region', { name: 'Softphone' });
  await softphone.getByRole('status').filter({ hasText: 'Ringing' }).waitFor();
  await softphone.getByRole('button', { name: 'Answer' }).click();
  await softphone.getByRole('button', { name: 'End call' }).waitFor();

  // Browser → phone: the caller's Goertzel filter finds the fake microphone's 440 Hz.
  await eventually('the caller hears 440 Hz', async () => (await caller('state')).heardTone === 440, 20_000);
  // Phone → browser: the softphone's inbound packets and the caller's audio level rise.
  const meter = softphone.getByRole('meter', { name: "Caller's audio level" });
  const packets = async () => Number(await meter.getAttribute('data-packets'));
  const first = await eventually('inbound packets', async () => (await packets()) > 0 && (await packets()), 20_000);
  await eventually('more inbound packets', async () => (await packets()) > first + 25, 20_000);
  await eventually('the caller audible in the browser', async () => Number(await meter.getAttribute('value')) > 0.01, 20_000);
  assert.match(await softphone.getByLabel('Call time').textContent(), /^\d+:\d\d$/);

  // The caller hangs up: "Call ended" with its duration, and the wrap badge (the issue asks
  // for 2 s; the waits here are only deadlines, never a measure of speed).
  await caller('hangup', 'POST');
  const ended = page.locator('.ended-notice');
  await ended.filter({ hasText: /Call ended by the contact · Total duration/ }).waitFor();
  await page.locator('.interaction__header .badge--wrap').waitFor();
  await page.getByText(/^Call ended · \d+:\d\d$/).first().waitFor();
  await softphone.waitFor({ state: 'detached' });
});

test('X1: from a webchat, Bob calls a number; the call and the chat are linked in the API and the SPA, and the chat stays open', async (t) => {
  const { page } = await openPage(browser, t);
  const token = await signIn(server, t, page, 'bob');
  await goReady(page);
  const support = (await graphql(server, '{ interactionPlans { id name } }', undefined, token)).data.interactionPlans.find((p) => p.name === 'Support');
  const contact = await contactStarts(server, { name: 'Wanda Webchat', text: 'Could you ring my landlord?', plan: support.id });
  await acceptOffer(page, 'Wanda Webchat');

  await page.getByRole('button', { name: 'Call…' }).click();
  const form = page.getByRole('form', { name: 'Consult call' });
  await form.getByLabel('Number').fill('+44 20 7946 0000');
  await form.getByRole('button', { name: 'Call', exact: true }).click();

  // The demo trunk (the simulated caller) answers; the softphone carries the call.
  const softphone = page.getByRole('region', { name: 'Softphone' });
  await softphone.getByRole('button', { name: 'End call' }).waitFor({ timeout: 10_000 }).catch(async (e) => {
    await page.screenshot({ path: `${OUTPUT}voice-consult.png` });
    throw new Error(`${e.message}\n${await page.locator('body').innerText()}`);
  });
  await eventually('the callee answers and hears 440 Hz', async () => (await caller('state')).heardTone === 440, 20_000);
  const linked = page.locator('.interaction__linked');
  await linked.filter({ hasText: /Linked call with \+442079460000 · active/ }).waitFor();

  // The log shows the two together, each marked as linked.
  const log = page.getByRole('navigation', { name: 'Conversation log' });
  await eventually('both linked cards in the log', async () => (await log.locator('.conversation-card[data-linked]').count()) === 2);
  const order = await log.locator('.conversation-card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-interaction-id')));
  const at = order.indexOf(contact.id);
  assert.ok(at >= 0 && order[at + 1] !== undefined, `the log: ${order}`);

  const body = await graphql(server, 'query ($id: ID!) { interaction(id: $id) { state linkedInteraction { id channel state } } }', { id: contact.id }, token);
  const chat = body.data.interaction;
  assert.equal(chat.state, 'ACTIVE');
  assert.equal(chat.linkedInteraction.channel, 'VOICE');
  const call = await graphql(server, 'query ($id: ID!) { interaction(id: $id) { linkedInteraction { id } } }', { id: chat.linkedInteraction.id }, token);
  assert.equal(call.data.interaction.linkedInteraction.id, contact.id);
  assert.equal(order[at + 1], chat.linkedInteraction.id, 'the call right after its chat');

  await softphone.getByRole('button', { name: 'End call' }).click();
  await softphone.waitFor({ state: 'detached' });
  await eventually('the callee hung up on', async () => !(await caller('state')).inCall, 20_000);
  await linked.filter({ hasText: /· wrap/ }).waitFor();
  const after = await graphql(server, 'query ($id: ID!) { interaction(id: $id) { state } }', { id: contact.id }, token);
  assert.equal(after.data.interaction.state, 'ACTIVE');
});

test('microphone denied: the softphone says so, and the agent still hears the caller', async (t) => {
  const denying = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--use-fake-device-for-media-stream',
      '--deny-permission-prompts',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  t.after(() => denying.close());
  const { page } = await openPage(denying, t);
  await signIn(server, t, page, 'carol');
  await goReady(page);
  await caller('dial?tone=1000', 'POST');
  t.after(() => fetch(`${server.url}/demo/call/api/hangup`, { method: 'POST' }));
  const softphone = page.getByRole('region', { name: 'Softphone' });
  await softphone.getByRole('button', { name: 'Answer' }).click();
  await softphone.getByRole('alert').filter({ hasText: 'Microphone access is blocked' }).waitFor({ timeout: 20_000 });
  const meter = softphone.getByRole('meter', { name: "Caller's audio level" });
  await eventually('the caller heard', async () => Number(await meter.getAttribute('data-packets')) > 25, 20_000);
  await softphone.getByRole('button', { name: 'End call' }).click();
  await softphone.waitFor({ state: 'detached' });
});
