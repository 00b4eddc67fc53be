/* global document, window, MutationObserver -- used inside page.evaluate callbacks, which run in the browser */
// SMS and WhatsApp end to end (C1, O1, O2, E5's marks, H1): the built SPA served by the real
// binary started with -demo, whose phone simulator (/demo/phone) plays the customer's handset
// and the providers (Vonage for SMS, WhatsApp Cloud): it signs each webhook as the provider
// does and sends delivery receipts for what the desk sends back. Alice works in one browser
// context, the customer's phone page in another.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { eventually, OUTPUT } from './browser.mjs';
import { goReady, offerCard, openPage, setUpDesk, signIn, toast } from './desk.mjs';

let server;
let browser;

setUpDesk(async (desk) => {
  ({ server, browser } = desk);
});

// A number of Ofcom's drama range, unlike the desk's demo numbers (+447700900100 and …200).
const PHONE = '+447700900321';
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const log = (page) => page.getByRole('navigation', { name: 'Conversation log' });
const card = (page, name) => log(page).getByRole('button', { name: new RegExp(escape(name)) });
const RANK = { PENDING: 0, SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4 };
/** A small PDF (the server sniffs %PDF-). */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

/** Records every delivery mark the agent's message `text` shows, in order, as it changes. */
async function watchMarks(page, text) {
  await page.evaluate((text) => {
    const seen = [];
    window.__marks = seen;
    const record = () => {
      for (const article of document.querySelectorAll('article.msg[data-from=AGENT]')) {
        if (article.querySelector('.msg__text')?.textContent !== text) continue;
        const mark = article.dataset.delivery;
        if (mark && seen.at(-1) !== mark) seen.push(mark);
      }
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-delivery'],
    });
    record();
  }, text);
  return () => page.evaluate(() => [...window.__marks]);
}

/** A message's text in the open transcript. */
const transcriptText = (page, text) =>
  page.getByRole('region', { name: /^Transcript with / }).locator('.msg__text').getByText(text, { exact: true });

/** The agent's message in the open transcript. */
const agentMessage = (page, text) =>
  page.locator('article.msg[data-from=AGENT]').filter({ has: page.locator('.msg__text', { hasText: text }) });

/** Every delivery update the page's websocket receives (on the desk's one subscription), as { id, delivery }, in order. */
function recordDeliveryEvents(page) {
  const events = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      try {
        const update = JSON.parse(String(payload)).payload?.data?.deskEvents?.deliveryUpdate;
        if (update) events.push({ id: update.id, delivery: update.delivery });
      } catch {
        // not JSON: nothing of ours
      }
    }),
  );
  return events;
}

test('SMS in, WhatsApp out: the phone simulator texts the desk, delivery marks arrive, a template opens the 24-hour window', async (t) => {
  const { page: desk } = await openPage(browser, t);
  const deliveryEvents = recordDeliveryEvents(desk);
  await signIn(server, t, desk, 'alice');
  await goReady(desk);

  // The customer's phone: their number and name, the desk's SMS number, and a text.
  const { page: phone } = await openPage(browser, t, { viewport: { width: 1000, height: 800 } });
  await phone.goto(`${server.url}/demo/phone`);
  await phone.getByRole('heading', { level: 1, name: 'Phone simulator' }).waitFor();
  await phone.getByRole('textbox', { name: 'Your number' }).fill(PHONE);
  await phone.getByRole('textbox', { name: 'Your name' }).fill('Ana');
  const numbers = phone.getByRole('navigation', { name: 'Desk numbers' });
  await numbers.getByRole('button', { name: /Acme Support \(SMS\)/ }).click();
  const smsBox = phone.getByRole('textbox', { name: 'Message to Acme Support (SMS)' });
  await smsBox.fill('Hello, is my order ready?');
  await smsBox.press('Enter');
  const smsLog = phone.getByRole('log', { name: 'Messages with Acme Support (SMS)' });
  await smsLog.getByText('Hello, is my order ready?').waitFor();
  assert.equal(await smsBox.inputValue(), '', 'Enter sent it and emptied the box');

  // P1, P3: Alice is READY and gets the offer; an SMS contact without a name is their number.
  await offerCard(desk, PHONE).getByRole('button', { name: 'Accept' }).click();
  await desk.getByRole('heading', { level: 2, name: PHONE }).waitFor();
  await transcriptText(desk, 'Hello, is my order ready?').waitFor();
  assert.equal(
    await desk.getByTitle('The number this conversation runs on').textContent(),
    'via Acme Support (SMS) +447700900100',
  );

  // H1: Enter sends; the reply's mark moves on as the simulator's receipts arrive (✓, then ✓✓).
  const reply = 'Yes, it is ready: come by any time today.';
  const marks = await watchMarks(desk, reply);
  const box = desk.getByRole('textbox', { name: 'Reply' });
  await box.fill(reply);
  await box.press('Enter');
  await agentMessage(desk, reply).locator('[data-delivery=DELIVERED]').waitFor({ timeout: 15_000 });
  assert.equal(await agentMessage(desk, reply).locator('.delivery-mark [aria-hidden=true]').textContent(), '✓✓');
  // The receipts came live over the desk subscription (deskEvents.deliveryUpdate): sent (✓), then delivered (✓✓).
  // How many of them the transcript shows depends on how fast the simulator is: the reply joins
  // the transcript when its tail is fetched, by when it may be delivered already.
  const smsEvents = await eventually('SENT and DELIVERED events', () =>
    deliveryEvents.some((e) => e.delivery === 'DELIVERED') && [...deliveryEvents],
  );
  assert.deepEqual(
    smsEvents.map((e) => e.delivery),
    ['SENT', 'DELIVERED'],
    JSON.stringify(smsEvents),
  );
  const seen = await marks();
  t.diagnostic(`SMS reply: delivery updates ${smsEvents.map((e) => e.delivery).join(' → ')}; marks shown ${seen.join(' → ')}`);
  assert.equal(seen.at(-1), 'DELIVERED');
  assert.ok(
    seen.every((mark, i) => i === 0 || RANK[mark] > RANK[seen[i - 1]]),
    `marks only move forward: ${seen.join(' → ')}`,
  );
  // The phone got it from the desk's SMS number.
  await smsLog.getByText(reply).waitFor();
  await desk.screenshot({ path: `${OUTPUT}sms-delivered.png` });

  // K1: park it; K4: the customer's next text wakes it back to Alice (Support's post-parking
  // plan is itself, and Alice has room).
  await desk.getByRole('button', { name: 'Park', exact: true }).click();
  await toast(desk, `Parked: ${PHONE} waits in the Parked tab`).waitFor();
  await log(desk).getByRole('tab', { name: 'Parked 1' }).waitFor();
  await smsBox.fill('Are you still there?');
  await smsBox.press('Enter');
  await log(desk).getByRole('tab', { name: 'Parked 0' }).waitFor();
  await log(desk).getByRole('tab', { name: 'Active 1' }).click();
  await card(desk, PHONE).click();
  await transcriptText(desk, 'Are you still there?').waitFor();

  // C3, T1: Alice transfers the SMS to Bob, who accepts it; C4: Bob, the agent, ends it.
  const { page: bob } = await openPage(browser, t);
  await signIn(server, t, bob, 'bob');
  await goReady(bob);
  await desk.getByRole('button', { name: 'Transfer', exact: true }).click();
  await desk.getByRole('dialog', { name: /^Transfer the / }).getByRole('button', { name: 'Transfer to Bob Okafor' }).click();
  await offerCard(bob, PHONE).getByRole('button', { name: 'Accept' }).click();
  await bob.getByRole('heading', { level: 2, name: PHONE }).waitFor();
  await toast(desk, `Bob Okafor accepted the transfer of ${PHONE}.`).waitFor();
  await card(desk, PHONE).waitFor({ state: 'detached' });
  await transcriptText(bob, 'Are you still there?').waitFor();
  const bobBox = bob.getByRole('textbox', { name: 'Reply' });
  await bobBox.fill('Bob here: your order is at the front desk.');
  await bobBox.press('Enter');
  await smsLog.getByText('Bob here: your order is at the front desk.').waitFor({ timeout: 15_000 });
  await bob.getByRole('button', { name: 'End chat' }).click();
  await bob.getByRole('alertdialog').getByRole('button', { name: 'End chat' }).click();
  await bob.getByText(/^Chat ended by you/).waitFor();
  const bobWrap = bob.getByRole('region', { name: 'Wrap up' });
  await bobWrap.getByRole('checkbox', { name: 'Resolved' }).check();
  await bob.locator('.complete__button[aria-disabled=false]').waitFor();
  await bobWrap.getByRole('button', { name: 'Complete' }).click();
  await card(bob, PHONE).waitFor({ state: 'detached' });

  // C1, O2, S8, S9: New → Initiate WhatsApp interaction, From, To, a template with its parameters.
  await desk.getByRole('button', { name: 'New' }).click();
  await desk.getByRole('menuitem', { name: 'Initiate WhatsApp interaction' }).click();
  const dialog = desk.getByRole('dialog', { name: 'Initiate WhatsApp interaction' });
  const from = dialog.getByRole('combobox', { name: 'From' });
  await eventually('the WhatsApp number in From', async () =>
    (await from.textContent()).includes('Acme Support (WhatsApp) · +447700900200'),
  );
  const to = dialog.getByRole('textbox', { name: 'To' });
  await to.fill('07700 900321');
  const start = dialog.getByRole('button', { name: 'Start Chat' });
  assert.equal(await start.getAttribute('aria-disabled'), 'true');
  await dialog.getByText(/^Enter the number in international form/).waitFor();
  await to.fill('+44 7700 900321');
  await dialog.getByRole('combobox', { name: 'Template' }).selectOption({ label: 'order_update (en_GB)' });
  await dialog.getByRole('textbox', { name: 'Parameter 1' }).fill('Ana');
  await dialog.getByRole('textbox', { name: 'Parameter 2' }).fill('A-1009');
  const template = 'Hello Ana, your order A-1009 has shipped. Reply here if you have any questions.';
  assert.equal(await dialog.getByTestId('template-preview').textContent(), template);
  assert.equal(await start.getAttribute('aria-disabled'), 'false');
  await desk.screenshot({ path: `${OUTPUT}whatsapp-start.png` });
  await start.click();

  // The new ACTIVE interaction opens: only templates until the customer answers (O2).
  await desk.getByRole('heading', { level: 2, name: PHONE }).waitFor();
  // Its card is marked current once the log has it, which can follow the heading (in CI it did).
  await eventually(
    'the new chat current in the log',
    async () => (await card(desk, PHONE).getAttribute('aria-current')) === 'true',
    30_000,
  );
  await desk.getByText('Templates only', { exact: true }).waitFor();
  await desk
    .getByText('The customer has not answered yet: WhatsApp allows only an approved template until they reply.')
    .waitFor();
  assert.equal(await desk.getByRole('textbox', { name: 'Reply' }).count(), 0, 'no free text before the customer answers');
  await agentMessage(desk, template).waitFor();

  // The phone shows the template, with its name, from the desk's WhatsApp number, and reads it.
  await numbers.getByRole('button', { name: /Acme Support \(WhatsApp\)/ }).click();
  const waLog = phone.getByRole('log', { name: 'Messages with Acme Support (WhatsApp)' });
  const received = waLog.getByRole('listitem').filter({ hasText: template });
  await received.waitFor({ timeout: 15_000 });
  assert.match(await received.textContent(), /Template: order_update/);
  // WhatsApp reports reads: the desk's mark turns to the coloured ✓✓.
  await agentMessage(desk, template).locator('[data-delivery=READ]').waitFor({ timeout: 15_000 });

  // The customer answers: the 24-hour window opens, with its countdown, and free text with it.
  const waBox = phone.getByRole('textbox', { name: 'Message to Acme Support (WhatsApp)' });
  await waBox.fill('Thanks! When will it arrive?');
  await waBox.press('Enter');
  await waLog.getByText('Thanks! When will it arrive?').waitFor();
  await transcriptText(desk, 'Thanks! When will it arrive?').waitFor();
  await desk.getByText(/^Free text for 2[34] h( \d+ min)?$/).waitFor();
  assert.equal(await desk.getByText('Templates only', { exact: true }).count(), 0);
  const freeText = desk.getByRole('textbox', { name: 'Reply' });
  assert.equal(await freeText.isEnabled(), true);
  await freeText.fill('Tomorrow before noon.');
  await freeText.press('Enter');
  await waLog.getByText('Tomorrow before noon.').waitFor({ timeout: 15_000 });
  await agentMessage(desk, 'Tomorrow before noon.').locator('[data-delivery=DELIVERED], [data-delivery=READ]').first().waitFor({
    timeout: 15_000,
  });
  await desk.screenshot({ path: `${OUTPUT}whatsapp-window.png` });

  // C2: a file from the desk's paperclip reaches the phone (uploaded to WhatsApp's media edge,
  // sent by its media ID), which downloads the very bytes Alice attached.
  const [chooser] = await Promise.all([desk.waitForEvent('filechooser'), desk.getByRole('button', { name: 'Attach files' }).click()]);
  await chooser.setFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF });
  await desk.getByRole('list', { name: 'Attached files' }).getByRole('listitem', { name: 'invoice.pdf' }).getByText('Not scanned for viruses').waitFor();
  await freeText.fill('Your invoice, as promised.');
  await freeText.press('Enter');
  await desk.getByRole('list', { name: 'Attached files' }).waitFor({ state: 'detached' });
  const fileLink = waLog.getByRole('link', { name: 'invoice.pdf' });
  await fileLink.waitFor({ timeout: 15_000 });
  await waLog.getByText('Your invoice, as promised.').waitFor();
  const [download] = await Promise.all([phone.waitForEvent('download'), fileLink.click()]);
  assert.equal(download.suggestedFilename(), 'invoice.pdf');
  assert.ok((await readFile(await download.path())).equals(PDF), 'the phone downloads the bytes the agent attached');
  await phone.screenshot({ path: `${OUTPUT}phone-simulator.png` });

  // Leave Alice's capacity as it was for any later test.
  await desk.getByRole('button', { name: 'End chat' }).click();
  await desk.getByRole('alertdialog').getByRole('button', { name: 'End chat' }).click();
  const wrap = desk.getByRole('region', { name: 'Wrap up' });
  await wrap.getByRole('checkbox', { name: 'Resolved' }).check();
  await desk.locator('.complete__button[aria-disabled=false]').waitFor();
  await wrap.getByRole('button', { name: 'Complete' }).click();
  await card(desk, PHONE).waitFor({ state: 'detached' });
});
