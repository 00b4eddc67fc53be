/* global document, window, Notification, OscillatorNode, requestAnimationFrame -- used inside page.evaluate and init scripts, which run in the browser */
// The desk's remaining flows end to end, against the real binary in Debian's Chromium with
// customers in the real webchat widget: an auto-accepting agent made with the operator command
// (P4), offer alerts with and without the browser's permission, a whole chat done with the
// keyboard alone, and a 5,000-message transcript.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, OUTPUT } from './browser.mjs';
import {
  acceptOffer,
  agentSends,
  card,
  contactStarts,
  customerStarts,
  endAndComplete,
  goReady,
  offerCard,
  openPage,
  planId,
  setPresence,
  setUpDesk,
  signIn,
  toast,
} from './desk.mjs';
import { addAgent, graphql } from './server.mjs';

let server;
let site;
let browser;

setUpDesk((desk) => ({ server, site, browser } = desk));

test('P4 auto-accept: an agent made with add-agent -auto-accept gets the chat ACTIVE at once: no offer card, no Reject, the transcript opens', async (t) => {
  // The operator command, against the running server's data folder.
  const created = await addAgent(server, { username: 'otto', name: 'Otto Auto', autoAccept: true });
  assert.match(created, /^created agent otto \(.+\), member of 2 plans$/);

  const { page } = await openPage(browser, t);
  const token = await signIn(server, t, page, 'otto');
  const me = await graphql(server, '{ me { name autoAccept } }', undefined, token);
  assert.deepEqual(me.data.me, { name: 'Otto Auto', autoAccept: true });
  await goReady(page);
  // Routing can only pick otto: nobody else is Ready.
  const others = await graphql(server, '{ transferTargets { username presence } }', undefined, token);
  assert.deepEqual(others.data.transferTargets, [], 'no other agent is READY');

  const customer = await customerStarts({ server, site }, browser, t, { name: 'Wanda Widget', text: 'Is the blue tent in stock?' });

  // The desk opens it by itself, already accepted.
  await toast(page, 'New chat from Wanda Widget, accepted automatically.').waitFor();
  await page.getByRole('heading', { level: 2, name: 'Wanda Widget' }).waitFor();
  const transcript = page.getByRole('region', { name: 'Transcript with Wanda Widget' });
  await transcript.getByText('Is the blue tent in stock?').waitFor();
  await transcript.getByText('Otto Auto joined the chat').waitFor();
  await card(page, 'Wanda Widget').waitFor();
  assert.equal(await page.getByRole('tab', { name: 'Active 1' }).count(), 1);
  // Nothing to answer: no offer card, so no Reject (and no Accept).
  assert.equal(await page.getByRole('region', { name: 'Offers' }).count(), 0, 'no offer card');
  assert.equal(await page.getByRole('button', { name: 'Reject' }).count(), 0, 'no Reject anywhere');
  assert.equal(await page.getByRole('button', { name: 'Accept' }).count(), 0);
  assert.equal(await page.getByRole('textbox', { name: 'Reply' }).isEnabled(), true);
  await page.getByRole('list', { name: 'Capacity in use' }).getByText('Chat 1/4').waitFor();
  const stored = await graphql(
    server,
    '{ myInteractions { state acceptedAt offer { id } agent { name } } }',
    undefined,
    token,
  );
  assert.equal(stored.data.myInteractions.length, 1);
  const [held] = stored.data.myInteractions;
  assert.equal(held.state, 'ACTIVE');
  assert.ok(held.acceptedAt, 'accepted by the server');
  assert.equal(held.offer, null);
  assert.equal(held.agent.name, 'Otto Auto');
  await page.screenshot({ path: `${OUTPUT}desk-auto-accepted.png` });

  // The customer is told who joined, and hears back.
  await customer.log.getByText('Otto Auto joined the chat').waitFor();
  const reply = page.getByRole('textbox', { name: 'Reply' });
  await reply.fill('Yes, we have three left.');
  await reply.press('Enter');
  await customer.log.getByText('Yes, we have three left.').waitFor();

  await endAndComplete(page, 'Wanda Widget');
});

// ---------------------------------------------------------------------------------------------
// Offer alerts. Headless Chromium shows no notifications and plays into no speaker, so an init
// script records what the app asks of the browser: every Notification made, and every tone the
// chime starts with the state of its audio output.

function recordAlerts() {
  const outputs = new Set();
  window.__alerts = {
    notifications: [],
    sounds: [],
    /** The audio outputs the chime used: running, and past the chime's end once it played. */
    outputs: () => [...outputs].map((output) => ({ state: output.state, time: output.currentTime })),
  };
  const Native = window.Notification;
  window.Notification = class extends Native {
    constructor(title, options) {
      super(title, options);
      window.__alerts.notifications.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
    }
  };
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (when) {
    outputs.add(this.context);
    window.__alerts.sounds.push({ frequency: this.frequency.value, at: when ?? 0 });
    return start.call(this, when);
  };
}

const alertsOf = (page) => page.evaluate(() => ({ notifications: window.__alerts.notifications, sounds: window.__alerts.sounds }));

/**
 * The agent looks at another tab: Playwright normally treats every page as focused; without
 * that emulation the desk loses the focus to the tab brought to the front (it stays "visible",
 * as in a window beside another). Returns that tab.
 */
async function lookAway(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
  const other = await context.newPage();
  await other.goto('about:blank');
  await other.bringToFront();
  await eventually('the desk to lose the focus', async () => !(await page.evaluate(() => document.hasFocus())));
  return other;
}

test('offer alerts allowed: a new offer chimes; with the desk in the background it also shows a desktop notification', async (t) => {
  const { context, page } = await openPage(browser, t, {
    before: async (context) => {
      await context.grantPermissions(['notifications'], { origin: server.url });
      await context.addInitScript(recordAlerts);
    },
  });
  await signIn(server, t, page, 'carol');
  // Permission is granted already: the control is a toggle, off until the agent turns it on.
  const toggle = page.getByRole('button', { name: 'Offer alerts' });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  await page.getByRole('button', { name: 'Offer alerts', pressed: true }).waitFor();
  await goReady(page);

  // The desk in front: the chime, no notification.
  await customerStarts({ server, site }, browser, t, { name: 'Front Desk', text: 'Hello, are you there?' });
  await toast(page, 'New chat offer from Front Desk.').waitFor();
  let alerts = await alertsOf(page);
  assert.deepEqual(alerts.sounds.map((s) => s.frequency), [660, 880], 'the two-tone chime');
  assert.deepEqual(alerts.notifications, [], 'no notification while the desk is in front');
  const chimeEnd = Math.max(...alerts.sounds.map((s) => s.at)) + 0.3;
  const [output] = await eventually('the chime to play through', async () => {
    const outputs = await page.evaluate(() => window.__alerts.outputs());
    return outputs.length === 1 && outputs[0].state === 'running' && outputs[0].time > chimeEnd && outputs;
  });
  assert.equal(output.state, 'running', 'the audio output is not suspended');
  await page.screenshot({ path: `${OUTPUT}desk-alert-offer.png` });
  await acceptOffer(page, 'Front Desk');
  await endAndComplete(page, 'Front Desk');

  // Another tab in front: the chime and a desktop notification naming the contact.
  const other = await lookAway(context, page);
  const customer = await customerStarts({ server, site }, browser, t, { name: 'Back Office', text: 'Can someone call me back?' });
  await eventually('the notification', async () => (await alertsOf(page)).notifications.length > 0);
  alerts = await alertsOf(page);
  assert.deepEqual(alerts.notifications, [
    { title: 'New chat offer', body: 'Back Office: Can someone call me back?', tag: 'agentdesk-offer' },
  ]);
  assert.deepEqual(alerts.sounds.map((s) => s.frequency), [660, 880, 660, 880]);

  await other.close();
  await page.bringToFront();
  await acceptOffer(page, 'Back Office');
  await customer.log.getByText('Carol Nguyen joined the chat').waitFor();
  await endAndComplete(page, 'Back Office');
});

test('offer alerts not allowed: the browser denies notifications, the desk says "Alerts blocked", and no offer notifies or chimes', async (t) => {
  const { context, page } = await openPage(browser, t, { before: (context) => context.addInitScript(recordAlerts) });
  await signIn(server, t, page, 'bob');
  // Headless Chromium answers the permission prompt with "denied", as an agent refusing it would.
  await page.getByRole('button', { name: 'Enable alerts' }).click();
  await page.getByText('Alerts blocked').waitFor();
  assert.equal(await page.evaluate(() => Notification.permission), 'denied');
  assert.equal(await page.getByRole('button', { name: /alerts/i }).count(), 0, 'nothing left to switch on');
  await goReady(page);
  // Where a notification would be due: the desk in the background.
  const other = await lookAway(context, page);

  await customerStarts({ server, site }, browser, t, { name: 'Quiet Offer', text: 'No need to ring' });
  // The toast comes from the same event, right after the alert would have.
  await toast(page, 'New chat offer from Quiet Offer.').waitFor();
  assert.deepEqual(await alertsOf(page), { notifications: [], sounds: [] });

  await other.close();
  await page.bringToFront();
  await page.screenshot({ path: `${OUTPUT}desk-alerts-blocked.png` });
  await acceptOffer(page, 'Quiet Offer');
  await endAndComplete(page, 'Quiet Offer');
});

// ---------------------------------------------------------------------------------------------

/** What has the focus, for messages. */
const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const name = el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? '';
    return `${el.getAttribute('role') ?? el.tagName.toLowerCase()} "${name.trim().slice(0, 40)}"`;
  });

const hasFocus = (locator) => locator.evaluate((el) => el === document.activeElement);

/** Presses `key` until `target` has the focus; fails with the way the focus went. */
async function pressUntilFocused(page, target, key, max = 25) {
  await target.waitFor();
  const path = [await focused(page)];
  for (let presses = 0; presses < max; presses++) {
    if (await hasFocus(target)) return;
    await page.keyboard.press(key);
    path.push(await focused(page));
  }
  if (await hasFocus(target)) return;
  assert.fail(`${key} did not reach ${target}; the focus went ${path.join(' → ')}`);
}

/** Buttons, fields and the like that a screen reader would announce without a name. */
function unnamedControls(snapshot) {
  const roles = 'button|textbox|checkbox|radio|combobox|tab|link|searchbox|spinbutton|slider|switch';
  return snapshot.split('\n').filter((line) => new RegExp(`^\\s*- (${roles})( \\[[^\\]]*\\])*:?$`).test(line));
}

test('keyboard only: sign in, go Ready, accept, reply, end and complete a chat without the mouse', async (t) => {
  const { page } = await openPage(browser, t);
  await page.goto(`${server.url}/`);
  // Sign in: the username field has the focus.
  await eventually('the username field to have the focus', () => hasFocus(page.getByLabel('Username')));
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  assert.equal(await hasFocus(page.getByLabel('Password')), true);
  await page.keyboard.type('demo');
  await page.keyboard.press('Enter');
  const presence = page.getByRole('radiogroup', { name: 'Presence' });
  await presence.waitFor();
  const token = await page.evaluate(() => localStorage.getItem('agentdesk.token'));
  t.after(() => setPresence(server, token, 'NOT_READY'));

  // Presence: Tab into the group, arrow keys to Ready.
  await pressUntilFocused(page, presence.getByRole('radio', { checked: true }), 'Tab');
  const ready = presence.getByRole('radio', { name: 'Ready', exact: true });
  await pressUntilFocused(page, ready, 'ArrowLeft', 3);
  await page.locator('[role=radiogroup][aria-busy=false]').waitFor();
  assert.equal(await ready.isChecked(), true);
  await page.getByText('You are Ready: new offers will appear here.').waitFor();

  const support = await planId(server, token, 'Support');
  const customer = await customerStarts({ server, site }, browser, t, { name: 'Kay Board', text: 'I only use the keyboard', plan: support });

  // Tab on to the offer's Accept; Enter accepts, and the reply box takes the focus.
  const accept = offerCard(page, 'Kay Board').getByRole('button', { name: 'Accept' });
  await pressUntilFocused(page, accept, 'Tab');
  await page.screenshot({ path: `${OUTPUT}desk-keyboard-accept.png` });
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: 'Kay Board' }).waitFor();
  const id = await card(page, 'Kay Board').getAttribute('data-interaction-id');
  const reply = page.getByRole('textbox', { name: 'Reply' });
  await eventually('the reply box to have the focus', () => hasFocus(reply));

  await page.keyboard.type('Hello Kay, how can I help?');
  await page.keyboard.press('Enter');
  const transcript = page.getByRole('region', { name: 'Transcript with Kay Board' });
  await transcript.getByText('Hello Kay, how can I help?').waitFor();
  await customer.log.getByText('Hello Kay, how can I help?').waitFor();
  await eventually('the reply box to empty', async () => (await reply.inputValue()) === '');

  // Every control on the desk has a name.
  const snapshot = await page.ariaSnapshot();
  assert.deepEqual(unnamedControls(snapshot), [], snapshot);

  // Shift+Tab back to End; the confirmation takes the focus (on Cancel), Shift+Tab to End chat.
  await pressUntilFocused(page, page.getByRole('button', { name: 'End chat' }), 'Shift+Tab');
  await page.keyboard.press('Enter');
  const confirm = page.getByRole('alertdialog', { name: 'End this chat?' });
  await eventually('Cancel to have the focus', () => hasFocus(confirm.getByRole('button', { name: 'Cancel' })));
  await pressUntilFocused(page, confirm.getByRole('button', { name: 'End chat' }), 'Shift+Tab', 2);
  await page.screenshot({ path: `${OUTPUT}desk-keyboard-end.png` });
  await page.keyboard.press('Enter');

  // Wrap-up takes the focus; Support requires a code: Space ticks one, and the focus stays.
  const wrap = page.getByRole('region', { name: 'Wrap up' });
  await eventually('the wrap-up heading to have the focus', () =>
    hasFocus(wrap.getByRole('heading', { name: 'Wrap up' })),
  );
  const complete = wrap.getByRole('button', { name: 'Complete' });
  assert.equal(await complete.getAttribute('aria-disabled'), 'true');
  const resolved = wrap.getByRole('checkbox', { name: 'Resolved' });
  await pressUntilFocused(page, resolved, 'Tab');
  await page.keyboard.press('Space');
  await page.locator('.complete__button[aria-disabled=false]').waitFor();
  assert.equal(await resolved.isChecked(), true);
  assert.equal(await hasFocus(resolved), true, 'the focus stays on the code');
  await pressUntilFocused(page, complete, 'Tab');
  await page.screenshot({ path: `${OUTPUT}desk-keyboard-complete.png` });
  await page.keyboard.press('Enter');
  await card(page, 'Kay Board').waitFor({ state: 'detached' });
  // Back to the log, where the next conversation will be.
  await eventually('the Active tab to have the focus', () =>
    hasFocus(page.getByRole('tab', { name: /^Active \d+$/ })),
  );
  await customer.panel.getByText('Chat ended').waitFor();

  const stored = await graphql(
    server,
    'query ($id: ID!) { interaction(id: $id) { state dispositions { code } } }',
    { id },
    token,
  );
  assert.deepEqual(stored.data.interaction, { state: 'COMPLETED', dispositions: [{ code: 'RESOLVED' }] });
});

// ---------------------------------------------------------------------------------------------

/** The p-th percentile of sorted numbers. */
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// It takes over from the 200-message browser test: paging, windowing, and both ends.
test('a 5,000-message transcript: windowed, both ends reachable, scrolled from bottom to top with the mouse wheel', async (t) => {
  const { page } = await openPage(browser, t);
  const token = await signIn(server, t, page, 'alice');
  await goReady(page);
  const customer = await contactStarts(server, { name: 'Long Haul', text: 'The first message of many' });
  await acceptOffer(page, 'Long Haul');

  const COUNT = 5000;
  const made = Date.now();
  await agentSends(server, token, customer.id, Array.from({ length: COUNT }, (_, i) => `Line ${i + 1} of ${COUNT}`));
  await customer.says('The very last message');
  t.diagnostic(`${COUNT} messages sent over HTTP in ${Date.now() - made} ms`);

  // A fresh page reads it all again, 100 messages a request.
  await page.reload();
  const opened = Date.now();
  await card(page, 'Long Haul').click();
  const transcript = page.getByRole('region', { name: 'Transcript with Long Haul' });
  await transcript.getByText('The very last message').waitFor({ timeout: 60_000 });
  await page.locator('.transcript__scroll[aria-busy=false]').waitFor({ timeout: 60_000 });
  const loadedMs = Date.now() - opened;
  const rows = transcript.getByRole('article');
  const total = COUNT + 3; // the first message, the join notice, the lines, the last message
  assert.equal(Number(await rows.first().getAttribute('aria-setsize')), total);
  const atBottom = await rows.count();
  assert.ok(atBottom < 150, `only a window of rows is in the DOM (${atBottom} of ${total})`);
  await page.screenshot({ path: `${OUTPUT}desk-5000-bottom.png` });

  // Record every frame's time in the page while the wheel scrolls up, step after step.
  await transcript.evaluate((el) => {
    const frames = [];
    let last = performance.now();
    let rowsMax = 0;
    window.__scroll = { frames, rowsMax: () => rowsMax, running: true };
    const frame = (now) => {
      frames.push(now - last);
      last = now;
      rowsMax = Math.max(rowsMax, el.querySelectorAll('article').length);
      if (window.__scroll.running) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  const box = await transcript.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const scrolled = Date.now();
  let steps = 0;
  while ((await transcript.evaluate((el) => el.scrollTop)) > 0) {
    assert.ok(steps < 2000, 'the wheel reaches the top');
    await page.mouse.wheel(0, -1500);
    steps += 1;
  }
  const scrollMs = Date.now() - scrolled;
  const { frames, rowsMax } = await page.evaluate(() => {
    window.__scroll.running = false;
    return { frames: window.__scroll.frames.slice(1), rowsMax: window.__scroll.rowsMax() };
  });

  await transcript.getByText('The first message of many').waitFor();
  assert.equal(await rows.first().getAttribute('aria-posinset'), '1');
  assert.equal(await transcript.getByText('The very last message').count(), 0);
  assert.ok(rowsMax > 0 && rowsMax < 150, `still a window while scrolling (at most ${rowsMax} rows)`);
  await page.screenshot({ path: `${OUTPUT}desk-5000-top.png` });

  const sorted = [...frames].sort((a, b) => a - b);
  const figures =
    `${total} messages loaded in ${loadedMs} ms; ${atBottom} rows in the DOM at the bottom, at most ${rowsMax} while scrolling; ` +
    `${steps} wheel steps of 1500 px in ${scrollMs} ms, ${frames.length} frames: ` +
    `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms`;
  t.diagnostic(figures);
  console.log(`# 5,000-message transcript: ${figures}`);

  // And back down to the newest with the End key.
  await transcript.focus();
  await page.keyboard.press('End');
  await transcript.getByText('The very last message').waitFor();
  await endAndComplete(page, 'Long Haul');
});
