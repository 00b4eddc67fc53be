/* global document, getComputedStyle -- used inside page.evaluate callbacks, which run in the browser */
// Parking (K1–K6) and cold transfers (T1–T6) end to end: the built SPA served by the real
// binary in Debian's Chromium, customers writing in the real webchat widget, and for transfers
// a second agent in a browser context of their own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OUTPUT } from './browser.mjs';
import {
  acceptOffer,
  card,
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
import { login } from './server.mjs';

let server;
let site;
let browser;
let support;

setUpDesk(async (desk) => {
  ({ server, site, browser } = desk);
  // Support's post-parking plan is Support itself; Sales has none, and takes the demo page's chats.
  support = await planId(server, await login(server, 'admin'), 'Support');
});

const log = (page) => page.getByRole('navigation', { name: 'Conversation log' });
const tab = (page, name) => log(page).getByRole('tab', { name: new RegExp(`^${name} \\d+$`) });

test('parking K1 K3 K4: park a Support chat, its countdown turns red at 10 minutes, the customer’s reply brings it back to Active', async (t) => {
  // The agent's clock is Playwright's, so the countdown can be moved on; the server's is real.
  const { page } = await openPage(browser, t, { before: (context) => context.clock.install() });
  await signIn(server, t, page, 'alice');
  await goReady(page);
  const capacity = page.getByRole('list', { name: 'Capacity in use' });

  const customer = await customerStarts({ server, site }, browser, t, { name: 'Parker Customer', text: 'I will check my router and come back', plan: support });
  await acceptOffer(page, 'Parker Customer');
  await capacity.getByText('Chat 1/4').waitFor();

  // K1: Park moves it to the Parked tab and frees its capacity.
  await page.getByRole('button', { name: 'Park', exact: true }).click();
  await toast(page, 'Parked: Parker Customer waits in the Parked tab').waitFor();
  await tab(page, 'Parked').filter({ hasText: 'Parked 1' }).waitFor();
  assert.equal(await tab(page, 'Active').textContent(), 'Active 0');
  await capacity.getByText('Chat 0/4').waitFor();
  // The open chat says it is parked; nothing can be sent until the customer writes.
  await page.getByText('Parked: replies open again when the contact writes back.').waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Reply' }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Transfer', exact: true }).count(), 0, 'no Transfer while parked');

  // The Parked tab, by keyboard: the tab list follows the ARIA pattern.
  await tab(page, 'Active').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await tab(page, 'Parked').getAttribute('aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Parked 1');
  const parked = card(page, 'Parker Customer');
  await parked.getByText('Parked', { exact: true }).waitFor();
  const countdown = parked.locator('.parked-countdown');
  // K3: a countdown to the end of the parked time (the demo plans park for 60 minutes).
  assert.match(await countdown.textContent(), /^ends in (1:00:00|59:[0-5]\d)$/);
  assert.equal(await countdown.getAttribute('data-urgent'), 'false');
  await page.screenshot({ path: `${OUTPUT}park-parked-tab.png` });

  // 50 minutes later (for the page), 10 minutes are left: the countdown turns red, with a
  // warning glyph and words for screen readers, not colour alone.
  await page.clock.fastForward('50:00');
  await parked.locator('.parked-countdown--urgent').waitFor();
  assert.equal(await countdown.getAttribute('data-urgent'), 'true');
  assert.match(await countdown.textContent(), /^ends in (10:00|9:[0-5]\d) \(ending soon\)$/);
  assert.equal(await countdown.locator('svg').count(), 1);
  assert.equal(await countdown.evaluate((el) => getComputedStyle(el).color), 'rgb(180, 35, 24)');
  await page.screenshot({ path: `${OUTPUT}park-countdown-red.png` });

  // K4: the customer writes in the widget; the chat wakes up with alice, who is Ready with room.
  await customer.says('Router restarted, still no internet');
  await toast(page, 'Parker Customer replied — back in Active').waitFor();
  await tab(page, 'Parked').filter({ hasText: 'Parked 0' }).waitFor();
  await tab(page, 'Active').filter({ hasText: 'Active 1' }).click();
  await card(page, 'Parker Customer').getByText('Router restarted, still no internet').waitFor();
  await page.getByRole('region', { name: 'Transcript with Parker Customer' }).getByText('Router restarted, still no internet').waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Reply' }).isEnabled(), true, 'replies are open again');
  await capacity.getByText('Chat 1/4').waitFor();
  await page.screenshot({ path: `${OUTPUT}park-unparked.png` });

  await endAndComplete(page, 'Parker Customer', 'Resolved');
});

test('parking K6: a parked Sales chat (no post-parking plan) ends when the customer replies', async (t) => {
  const { page } = await openPage(browser, t);
  await signIn(server, t, page, 'alice');
  await goReady(page);
  // The demo page's chats go to Sales.
  const customer = await customerStarts({ server, site }, browser, t, { name: 'Sales Visitor', text: 'Do you deliver tents abroad?' });
  await acceptOffer(page, 'Sales Visitor');
  await page.getByRole('button', { name: 'Park', exact: true }).click();
  await tab(page, 'Parked').filter({ hasText: 'Parked 1' }).waitFor();
  // Look at something else meanwhile: the Parked tab.
  await tab(page, 'Parked').click();
  await card(page, 'Sales Visitor').waitFor();

  await customer.says('Hello? Anyone?');
  await toast(page, 'Sales Visitor replied — chat ended: no post-parking plan').waitFor();
  await tab(page, 'Parked').filter({ hasText: 'Parked 0' }).waitFor();
  await tab(page, 'Active').filter({ hasText: 'Active 1' }).click();
  await card(page, 'Sales Visitor').getByText('Wrap', { exact: true }).waitFor();
  await page.getByText(/^Chat ended by the system · Total duration/).waitFor();
  const wrap = page.getByRole('region', { name: 'Wrap up' });
  await wrap.waitFor();
  // The customer's widget says the chat is over.
  await customer.panel.getByText('Chat ended').waitFor();
  await page.screenshot({ path: `${OUTPUT}park-ended-no-post-parking-plan.png` });
  await customer.page.screenshot({ path: `${OUTPUT}park-ended-widget.png` });

  await wrap.getByRole('button', { name: 'Complete' }).click();
  await card(page, 'Sales Visitor').waitFor({ state: 'detached' });
});

test('transfer T1 T2 T3 T4 T5: alice transfers to bob, bob accepts and sees the whole transcript; alice’s card goes and her composer closes', async (t) => {
  const { page: alice } = await openPage(browser, t);
  await signIn(server, t, alice, 'alice');
  await goReady(alice);
  const customer = await customerStarts({ server, site }, browser, t, { name: 'Transfer Customer', text: 'My invoice is wrong', plan: support });
  await acceptOffer(alice, 'Transfer Customer');
  const reply = alice.getByRole('textbox', { name: 'Reply' });
  await reply.fill('Billing is my colleague’s area, one moment.');
  await reply.press('Enter');
  await customer.log.getByText('Billing is my colleague’s area, one moment.').waitFor();

  const { page: bob } = await openPage(browser, t);
  await signIn(server, t, bob, 'bob');
  await goReady(bob);

  // T2: the dialog searches agents and plans; filters for recent agents and plans.
  await alice.getByRole('button', { name: 'Transfer', exact: true }).click();
  const dialog = alice.getByRole('dialog', { name: 'Transfer the chat with Transfer Customer' });
  await dialog.waitFor();
  const search = dialog.getByRole('searchbox', { name: 'Search agents and plans' });
  assert.equal(await search.evaluate((el) => el === document.activeElement), true, 'focus starts in the search');
  await dialog.getByRole('button', { name: 'Transfer to Bob Okafor' }).waitFor();
  await dialog.getByRole('button', { name: 'Transfer to the Support queue' }).waitFor();
  assert.equal(await dialog.getByRole('button', { name: /Transfer to Alice/ }).count(), 0, 'not to oneself');
  await dialog.getByRole('radio', { name: 'Recent agents' }).check();
  await dialog.getByText('No recently contacted agent is Ready right now.').waitFor();
  await dialog.getByRole('radio', { name: 'Plans' }).check();
  await dialog.getByRole('button', { name: 'Transfer to the Sales queue' }).waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Transfer to Bob Okafor' }).count(), 0);
  await dialog.getByRole('radio', { name: 'All' }).check();
  await search.fill('okaf');
  await dialog.getByRole('button', { name: 'Transfer to the Support queue' }).waitFor({ state: 'detached' });
  const row = dialog.getByRole('listitem').filter({ hasText: 'Bob Okafor' });
  await row.getByText('Ready').waitFor();
  assert.equal(await dialog.getByRole('listitem').count(), 1);
  await alice.screenshot({ path: `${OUTPUT}transfer-dialog.png` });
  // Tab stays inside; Escape closes and gives focus back to Transfer.
  for (let i = 0; i < 6; i++) await alice.keyboard.press('Tab');
  assert.equal(await dialog.evaluate((el) => el.contains(document.activeElement)), true, 'focus is trapped');
  await alice.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  // react-aria gives focus back on the next animation frame, later on a busy machine.
  await alice
    .waitForFunction(() => document.activeElement?.textContent === 'Transfer', null, { timeout: 10_000 })
    .catch(() => {});
  assert.equal(await alice.evaluate(() => document.activeElement?.textContent), 'Transfer');

  await alice.getByRole('button', { name: 'Transfer', exact: true }).click();
  await dialog.getByRole('button', { name: 'Transfer to Bob Okafor' }).click();
  await dialog.waitFor({ state: 'detached' });
  const pending = alice.getByRole('status').filter({ hasText: 'Transferring to Bob Okafor…' });
  await pending.waitFor();
  assert.match(await pending.getByRole('timer').textContent(), /^0:[0-3]\d$/);
  assert.equal(await alice.getByRole('button', { name: 'Transfer', exact: true }).getAttribute('aria-disabled'), 'true');
  assert.equal(await alice.getByRole('button', { name: 'Park', exact: true }).count(), 0, 'no parking while a transfer waits');
  await alice.screenshot({ path: `${OUTPUT}transfer-pending.png` });

  // Bob's side: a transfer offer card, with who is transferring it and the countdown.
  const offer = offerCard(bob, 'Transfer Customer');
  await offer.getByText('Transfer from Alice Martin').waitFor();
  await offer.getByText('Transfer', { exact: true }).waitFor();
  assert.match(await offer.getByRole('timer').textContent(), /^0:[0-3]\d$/);
  await toast(bob, 'Transfer from Alice Martin: chat with Transfer Customer.').waitFor();
  assert.equal(await card(bob, 'Transfer Customer').count(), 0, 'an offer, not a conversation, until accepted');
  await bob.screenshot({ path: `${OUTPUT}transfer-offer-bob.png` });

  await acceptOffer(bob, 'Transfer Customer');
  // T3: the whole transcript so far.
  const transcript = bob.getByRole('region', { name: 'Transcript with Transfer Customer' });
  await transcript.getByText('My invoice is wrong').waitFor();
  await transcript.getByText('Alice Martin joined the chat').waitFor();
  await transcript.getByText('Billing is my colleague’s area, one moment.').waitFor();
  await bob.screenshot({ path: `${OUTPUT}transfer-accepted-bob.png` });

  // T5: alice is told, the card leaves her log, and she can no longer send.
  await toast(alice, 'Bob Okafor accepted the transfer of Transfer Customer.').waitFor();
  await card(alice, 'Transfer Customer').waitFor({ state: 'detached' });
  await alice.getByText('Transferred to Bob Okafor · You can no longer send messages in this chat.').waitFor();
  assert.equal(await reply.isDisabled(), true);
  assert.equal(await alice.getByRole('button', { name: 'Send' }).isDisabled(), true);
  assert.equal(await alice.getByRole('button', { name: 'End chat' }).count(), 0);
  await alice.getByRole('region', { name: 'Transcript with Transfer Customer' }).getByText('My invoice is wrong').waitFor();
  await alice.getByRole('list', { name: 'Capacity in use' }).getByText('Chat 0/4').waitFor();
  await alice.screenshot({ path: `${OUTPUT}transfer-accepted-alice.png` });

  // Bob carries on; T4: the customer was told nothing of the transfer.
  const bobReply = bob.getByRole('textbox', { name: 'Reply' });
  await bobReply.fill('Hi, Bob from billing here.');
  await bobReply.press('Enter');
  await customer.log.getByText('Hi, Bob from billing here.').waitFor();
  const lines = await customer.lines();
  assert.deepEqual(lines.filter((l) => l.startsWith('system')), ['system: Alice Martin joined the chat'], lines.join(' | '));
  await customer.page.screenshot({ path: `${OUTPUT}transfer-widget.png` });

  await endAndComplete(bob, 'Transfer Customer', 'Resolved');
});

test('transfer T6 and to a plan: a refusal shows in the dialog; bob rejects and the chat stays with alice; then it goes to the Sales queue', async (t) => {
  const { page: alice } = await openPage(browser, t);
  await signIn(server, t, alice, 'alice');
  await goReady(alice);
  const customer = await customerStarts({ server, site }, browser, t, { name: 'Second Opinion', text: 'Which tent for winter?', plan: support });
  await acceptOffer(alice, 'Second Opinion');

  const { page: bob } = await openPage(browser, t);
  const bobToken = await signIn(server, t, bob, 'bob');
  await goReady(bob);

  // Bob was contacted lately (the test before): the Recent agents filter lists him.
  await alice.getByRole('button', { name: 'Transfer', exact: true }).click();
  const dialog = alice.getByRole('dialog', { name: 'Transfer the chat with Second Opinion' });
  await dialog.getByRole('radio', { name: 'Recent agents' }).check();
  const toBob = dialog.getByRole('button', { name: 'Transfer to Bob Okafor' });
  await toBob.waitFor();

  // He stops being Ready before alice clicks: the server refuses, the dialog says why.
  await setPresence(server, bobToken, 'NOT_READY');
  await toBob.click();
  const refusal = dialog.getByRole('alert');
  await refusal.waitFor();
  assert.equal(await refusal.textContent(), 'Bob Okafor is not ready: only agents who are ready can take a transfer');
  await toBob.waitFor({ state: 'detached' });
  await alice.screenshot({ path: `${OUTPUT}transfer-refused.png` });
  await setPresence(server, bobToken, 'READY');
  // A new search asks the server again.
  await dialog.getByRole('searchbox', { name: 'Search agents and plans' }).fill('bob');
  await toBob.click();
  await dialog.waitFor({ state: 'detached' });

  const offer = offerCard(bob, 'Second Opinion');
  await offer.getByRole('button', { name: 'Reject' }).click();
  await offer.waitFor({ state: 'detached' });

  // T6: alice hears of it, and the chat is hers as before.
  await toast(alice, 'Bob Okafor did not accept the transfer of Second Opinion: it stays with you.').waitFor();
  await alice.getByText('Transferring to Bob Okafor…').waitFor({ state: 'detached' });
  assert.equal(await alice.getByRole('button', { name: 'Transfer', exact: true }).getAttribute('aria-disabled'), 'false');
  assert.equal(await alice.getByRole('textbox', { name: 'Reply' }).isEnabled(), true);
  await card(alice, 'Second Opinion').waitFor();
  assert.equal(await card(bob, 'Second Opinion').count(), 0, 'nothing left in bob’s log');
  await alice.screenshot({ path: `${OUTPUT}transfer-rejected-alice.png` });

  // To a plan: the Sales queue takes it at once.
  await alice.getByRole('button', { name: 'Transfer', exact: true }).click();
  await dialog.getByRole('radio', { name: 'Plans' }).check();
  await dialog.getByRole('button', { name: 'Transfer to the Sales queue' }).click();
  await toast(alice, 'Second Opinion was transferred to the Sales queue.').waitFor();
  await card(alice, 'Second Opinion').waitFor({ state: 'detached' });
  await alice.getByText('Moved to the Sales queue · You can no longer send messages in this chat.').waitFor();
  assert.equal(await alice.getByRole('textbox', { name: 'Reply' }).isDisabled(), true);

  // Routing offers it to bob, Ready in Sales, as an ordinary offer; he takes it to the end.
  const routed = offerCard(bob, 'Second Opinion');
  await routed.getByText('Offered', { exact: true }).waitFor();
  assert.equal(await routed.getByText(/Transfer from/).count(), 0);
  await acceptOffer(bob, 'Second Opinion');
  await bob.getByRole('region', { name: 'Transcript with Second Opinion' }).getByText('Which tent for winter?').waitFor();
  await customer.says('Still here');
  await bob.getByRole('region', { name: 'Transcript with Second Opinion' }).getByText('Still here').waitFor();
  await endAndComplete(bob, 'Second Opinion');
});
