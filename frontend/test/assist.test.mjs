/* global document -- used inside page.waitForFunction callbacks, which run in the browser */
// Agent Assist end to end (W4, issue 17), against the real binary with its demo data in
// Debian's Chromium: the demo Support plan comes with generated history, so a chat about a lost
// card shows the matching code as the first chip as soon as the customer says so (the chips
// refresh with the interaction's updates); one click on it selects the code; Insert summary
// appends the recap under the note the agent typed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, OUTPUT } from './browser.mjs';
import { acceptOffer, contactStarts, goReady, openPage, planId, setUpDesk, signIn } from './desk.mjs';
import { graphql } from './server.mjs';

let server;
let browser;

setUpDesk((desk) => ({ server, browser } = desk));

test('W4: a lost card is suggested first, one click selects it, Insert summary appends under the note', async (t) => {
  const { page } = await openPage(browser, t);
  const token = await signIn(server, t, page, 'alice');
  await goReady(page);
  const support = await planId(server, token, 'Support');
  const customer = await contactStarts(server, { name: 'Lena Lost', text: 'Hello there', plan: support });
  await acceptOffer(page, 'Lena Lost');

  const log = page.getByRole('region', { name: 'Log' });
  const suggested = log.getByRole('group', { name: 'Suggested' });
  // The request arrives after the greeting: the chips follow the conversation.
  await customer.says('I lost my card yesterday, I think it was stolen. Order #A12345 is also affected.');
  const first = suggested.getByRole('button').first();
  await first.filter({ hasText: 'Card lost or stolen' }).waitFor();
  await page.screenshot({ path: `${OUTPUT}assist-suggested.png` });

  await first.click();
  const code = log.getByRole('combobox', { name: 'Disposition code' });
  await page.waitForFunction(() => document.querySelector('[data-code="CARD_LOST"]')?.getAttribute('aria-pressed') === 'true');
  assert.equal(await code.inputValue(), 'CARD_LOST');
  const stored = await graphql(server, 'query ($i: ID!) { interaction(id: $i) { dispositions { code } } }', { i: customer.id }, token);
  assert.deepEqual(stored.data.interaction.dispositions, [{ code: 'CARD_LOST' }]);

  const notes = log.getByRole('textbox', { name: 'Notes' });
  await notes.fill('Customer sounded worried.');
  await log.getByRole('button', { name: 'Insert summary' }).click();
  const text = await eventually('the summary in the notes', async () => {
    const value = await notes.inputValue();
    return value.includes('Summary (offline)') && value;
  });
  assert.match(text, /^Customer sounded worried\.\n\nSummary \(offline\):\nLena Lost asked: .*I lost my card yesterday/s);
  assert.match(text, /Order numbers: A12345/);
  await page.screenshot({ path: `${OUTPUT}assist-summary.png` });
});
