/* global document, window, DataTransfer, DragEvent -- used inside page.evaluate callbacks, which run in the browser */
// Attachments (issue 12) end to end, against the real binary in Debian's Chromium: a PNG from
// the webchat widget (file picker and drag and drop) reaches the agent, whose download has the
// same bytes; a PDF from the agent's paperclip reaches the widget, same bytes; an SVG with a
// script never runs in agentdesk's origin; and with Debian's clamd, EICAR is blocked with a
// clear reason on both sides.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, launchChromium, OUTPUT } from './browser.mjs';
import { EICAR, EICAR_SIGNATURE, startClamd } from './clamd.mjs';
import { acceptOffer, card, customerStarts, goReady, openPage, signIn, startServerWithSite } from './desk.mjs';
import { graphql, startServer } from './server.mjs';

/** A valid 1×1 PNG followed by `filler` bytes (image decoders stop at IEND). */
function png(filler) {
  const head = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8ffff3f0005fe02fea7358184' +
      '0000000049454e44ae426082',
    'hex',
  );
  const tail = Buffer.alloc(filler);
  for (let i = 0; i < filler; i++) tail[i] = (i * 7919) & 0xff;
  return Buffer.concat([head, tail]);
}

/** A small PDF (the server sniffs %PDF-). */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n' +
    'trailer << /Root 1 0 R >>\n%%EOF\n',
);

const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>window.pwned = 1; document.title = "pwned"</script>' +
    '<circle cx="5" cy="5" r="5" fill="red"/></svg>',
);

/** The attachments of the chat with `name`, as the agent reads them over the API, oldest first. */
async function filesOf(server, token, name) {
  const mine = await graphql(server, '{ myInteractions { id contact { name } } }', undefined, token);
  const chat = mine.data?.myInteractions?.find((i) => i.contact.name === name);
  assert.ok(chat, `no chat with ${name}: ${JSON.stringify(mine)}`);
  const body = await graphql(
    server,
    'query ($id: ID!) { interaction(id: $id) { transcript(first: 20) { edges { node { from attachments { fileName contentType size url scan } } } } } }',
    { id: chat.id },
    token,
  );
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data.interaction.transcript.edges.flatMap((e) => e.node.attachments.map((a) => ({ from: e.node.from, ...a })));
}

/** The bytes of a Playwright download. */
async function bytesOf(download) {
  return readFile(await download.path());
}

/** Drops files on an element inside the widget's shadow root, as a drag from the desktop would. */
function dropInWidget(page, selector, files) {
  return page.evaluate(
    ({ selector, files }) => {
      const target = document.querySelector('agentdesk-webchat').shadowRoot.querySelector(selector);
      const data = new DataTransfer();
      for (const f of files) data.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
      for (const type of ['dragenter', 'dragover', 'drop'])
        target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    },
    { selector, files: files.map((f) => ({ ...f, bytes: [...f.bytes] })) },
  );
}

describe('attachments without a virus scanner', () => {
  let server;
  let site;
  let browser;

  before(async () => {
    ({ server, site } = await startServerWithSite());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    site?.close();
  });

  test('a PNG from the widget (picker and drag and drop) reaches the agent and downloads unchanged; a PDF from the paperclip reaches the widget unchanged', async (t) => {
    const photo = png(400_000);
    const dropped = png(2_000);
    const { page } = await openPage(browser, t);
    const alice = await signIn(server, t, page, 'alice');
    await goReady(page);

    const customer = await customerStarts({ server, site }, browser, t, { name: 'Pia Picture', text: 'My tent arrived torn' });
    await acceptOffer(page, 'Pia Picture');
    const { panel } = customer;

    // The widget: a file through the picker, with its upload progress while the network is slow.
    const cdp = await customer.page.context().newCDPSession(customer.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 150 * 1024,
    });
    await panel.locator('input[type=file]').setInputFiles({ name: 'tear.png', mimeType: 'image/png', buffer: photo });
    const chip = panel.getByRole('listitem', { name: 'tear.png' });
    await chip.getByRole('progressbar', { name: 'Uploading tear.png' }).waitFor();
    const send = panel.getByRole('button', { name: 'Send' });
    assert.equal(await send.getAttribute('aria-disabled'), 'true', 'Send waits while the file uploads');
    await send.hover();
    await panel.getByRole('tooltip').filter({ hasText: 'Wait until tear.png has uploaded.' }).waitFor();
    await customer.page.screenshot({ path: `${OUTPUT}attachments-widget-uploading.png` });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await chip.getByText('Not scanned for viruses').waitFor({ timeout: 30_000 });
    assert.equal(await send.getAttribute('aria-disabled'), null);
    // The image shows as a preview from the local file.
    assert.match(await chip.locator('img').getAttribute('src'), /^blob:/);

    // … and one dropped on the message box.
    await dropInWidget(customer.page, '#adw-text', [{ name: 'close-up.png', type: 'image/png', bytes: dropped }]);
    await panel.getByRole('listitem', { name: 'close-up.png' }).getByText('Not scanned for viruses').waitFor();

    await panel.getByRole('textbox', { name: 'Message' }).fill('Here are the photos');
    await send.click();
    await customer.log.getByText('Here are the photos').waitFor();
    await customer.log.getByRole('button', { name: /^Download tear\.png/ }).waitFor();
    await panel.getByRole('list', { name: 'Attached files' }).waitFor({ state: 'hidden' });
    await customer.page.screenshot({ path: `${OUTPUT}attachments-widget-sent.png` });

    // The agent sees both in the transcript, as thumbnails, and downloads the first.
    const transcript = page.getByRole('region', { name: 'Transcript with Pia Picture' });
    const download = transcript.getByRole('button', { name: /^Download tear\.png, 3\d\d KB$/ });
    await download.waitFor();
    await transcript.getByRole('button', { name: /^Download close-up\.png/ }).waitFor();
    const thumb = transcript.getByRole('img', { name: 'tear.png' });
    await eventually('the thumbnail to load', () => thumb.evaluate((img) => img.complete && img.naturalWidth === 1));
    const [saved] = await Promise.all([page.waitForEvent('download'), download.click()]);
    assert.equal(saved.suggestedFilename(), 'tear.png');
    assert.ok((await bytesOf(saved)).equals(photo), 'the agent downloads the bytes the contact sent');
    await page.screenshot({ path: `${OUTPUT}attachments-desk-received.png` });

    // The agent attaches a PDF with the paperclip (a file picker taking several files) and sends it alone.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()]);
    assert.equal(chooser.isMultiple(), true);
    await chooser.setFiles({ name: 'receipt.pdf', mimeType: 'application/pdf', buffer: PDF });
    const composer = page.getByRole('list', { name: 'Attached files' });
    await composer.getByRole('listitem', { name: 'receipt.pdf' }).getByText('Not scanned for viruses').waitFor();
    await page.screenshot({ path: `${OUTPUT}attachments-desk-chip.png` });
    await page.getByRole('button', { name: 'Send' }).click();
    await composer.waitFor({ state: 'detached' });
    await transcript.getByRole('button', { name: /^Download receipt\.pdf/ }).waitFor();

    // The contact downloads it in the widget.
    const pdfButton = customer.log.getByRole('button', { name: /^Download receipt\.pdf/ });
    await pdfButton.waitFor();
    const [received] = await Promise.all([customer.page.waitForEvent('download'), pdfButton.click()]);
    assert.equal(received.suggestedFilename(), 'receipt.pdf');
    assert.ok((await bytesOf(received)).equals(PDF), 'the contact downloads the bytes the agent sent');
    await customer.page.screenshot({ path: `${OUTPUT}attachments-widget-received.png` });

    // What the server stored, as the agent reads it.
    const files = await filesOf(server, alice, 'Pia Picture');
    assert.deepEqual(
      files.map((a) => `${a.from} ${a.fileName} ${a.contentType} ${a.size} ${a.scan}`),
      [
        `CONTACT tear.png image/png ${photo.length} UNSCANNED`,
        `CONTACT close-up.png image/png ${dropped.length} UNSCANNED`,
        `AGENT receipt.pdf application/pdf ${PDF.length} UNSCANNED`,
      ],
    );
  });

  test('files over 25 MB are refused before uploading, and the agent’s files are dropped on switching interaction', async (t) => {
    const { page } = await openPage(browser, t);
    await signIn(server, t, page, 'bob');
    await goReady(page);
    await customerStarts({ server, site }, browser, t, { name: 'Hugo Huge', text: 'I have a big file' });
    await acceptOffer(page, 'Hugo Huge');

    let uploads = 0;
    page.on('request', (request) => {
      if (request.method() === 'POST' && (request.headers()['content-type'] ?? '').startsWith('multipart/')) uploads++;
    });
    // From a file on disk, which the local browser reads itself: 25 MB handed over as a buffer
    // crosses the DevTools protocol in base64, which can outlast the timeout on a busy machine.
    const dir = await mkdtemp(join(tmpdir(), 'agentdesk-huge-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const big = join(dir, 'huge.png');
    await writeFile(big, Buffer.alloc(25 * 1024 * 1024 + 1, 1));
    await page.locator('input[type=file]').setInputFiles(big);
    const chip = page.getByRole('listitem', { name: 'huge.png' });
    await chip.getByText('huge.png is over the 25 MB limit (E4)').waitFor();
    const send = page.getByRole('button', { name: 'Send' });
    assert.equal(await send.getAttribute('aria-disabled'), 'true');
    await send.focus();
    await page.getByRole('tooltip').filter({ hasText: 'huge.png is over the 25 MB limit: remove it to send.' }).waitFor();
    assert.equal(uploads, 0, 'nothing was uploaded');

    // Removing it enables Send again (nothing to send: a plain disabled button).
    await chip.getByRole('button', { name: 'Remove huge.png' }).click();
    await chip.waitFor({ state: 'detached' });
    assert.equal(await send.isDisabled(), true);
    assert.equal(await send.getAttribute('aria-disabled'), null);

    // Files attached and not sent are dropped when the agent switches to another interaction (S7);
    // the typed text stays.
    await customerStarts({ server, site }, browser, t, { name: 'Ivy Interim', text: 'Me too' });
    await acceptOffer(page, 'Ivy Interim');
    await page.getByRole('textbox', { name: 'Reply' }).fill('One moment');
    await page.locator('input[type=file]').setInputFiles({ name: 'draft.png', mimeType: 'image/png', buffer: png(10) });
    await page.getByRole('listitem', { name: 'draft.png' }).getByText('Not scanned for viruses').waitFor();
    await card(page, 'Hugo Huge').click();
    await page.getByRole('heading', { level: 2, name: 'Hugo Huge' }).waitFor();
    assert.equal(await page.getByRole('list', { name: 'Attached files' }).count(), 0);
    await card(page, 'Ivy Interim').click();
    await page.getByRole('heading', { level: 2, name: 'Ivy Interim' }).waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Reply' }).inputValue(), 'One moment');
    assert.equal(await page.getByRole('list', { name: 'Attached files' }).count(), 0, 'the file was dropped');
  });

  test('an SVG with a script is never run in agentdesk’s origin', async (t) => {
    const { page } = await openPage(browser, t);
    const alice = await signIn(server, t, page, 'alice');
    await goReady(page);
    const customer = await customerStarts({ server, site }, browser, t, { name: 'Sam Svg', text: 'Our logo' });
    await acceptOffer(page, 'Sam Svg');
    await customer.panel.locator('input[type=file]').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: SVG });
    await customer.panel.getByRole('listitem', { name: 'logo.svg' }).getByText('Not scanned for viruses').waitFor();
    await customer.panel.getByRole('button', { name: 'Send' }).click();

    // In the transcript it is an <img> of an object URL: scripts in an SVG image never run.
    const transcript = page.getByRole('region', { name: 'Transcript with Sam Svg' });
    const thumb = transcript.getByRole('img', { name: 'logo.svg' });
    await eventually('the SVG thumbnail to load', () => thumb.evaluate((img) => img.complete && img.naturalWidth > 0));
    const title = await page.title();
    assert.equal(await page.evaluate(() => window.pwned), undefined);

    const [svg] = await filesOf(server, alice, 'Sam Svg');
    const url = new URL(svg.url, server.url).href;

    // Opened directly in the agent's browser, with the agent's credentials: a download, not a page.
    const viewer = await page.context().newPage();
    await viewer.goto(`${server.url}/healthz`);
    await viewer.route(url, (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${alice}` } }));
    const [download, navigation] = await Promise.all([viewer.waitForEvent('download'), viewer.goto(url).catch((error) => error)]);
    assert.match(String(navigation), /Download is starting/);
    assert.equal(download.suggestedFilename(), 'logo.svg');
    assert.ok((await bytesOf(download)).equals(SVG));
    assert.equal(await viewer.evaluate(() => window.pwned), undefined);
    assert.equal(new URL(viewer.url()).pathname, '/healthz', 'the page stayed where it was');

    // Even rendered as a document (Content-Disposition taken away), the sandboxing CSP keeps
    // its script from running.
    await viewer.unroute(url);
    let headers;
    await viewer.route(url, async (route) => {
      const response = await route.fetch({ headers: { ...route.request().headers(), authorization: `Bearer ${alice}` } });
      headers = response.headers();
      const rest = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'content-disposition'));
      await route.fulfill({ response, headers: rest });
    });
    await viewer.goto(url);
    assert.match(headers['content-disposition'], /^attachment; filename="?logo\.svg"?$/);
    assert.match(headers['content-security-policy'], /sandbox/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    await viewer.locator('circle').waitFor({ state: 'attached' });
    assert.notEqual(await viewer.title(), 'pwned', 'the SVG’s script did not run');
    assert.equal(await viewer.evaluate(() => window.pwned), undefined);
    assert.equal(await page.title(), title);
    await viewer.close();
  });
});

describe('attachments with Debian’s clamd', () => {
  let clamd;
  let server;
  let browser;

  before(async () => {
    clamd = await startClamd();
    server = await startServer({ args: ['-clamd-addr', clamd.addr] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await clamd?.stop();
  });

  test('EICAR is blocked with a clear reason in the widget and in the desk', async (t) => {
    const { page } = await openPage(browser, t);
    await signIn(server, t, page, 'alice');
    await goReady(page);
    const customer = await customerStarts({ server }, browser, t, { name: 'Eve Eicar', text: 'See the invoice' });
    await acceptOffer(page, 'Eve Eicar');

    // The widget: the chip says the file contains malware, and Send says why it is disabled.
    const { panel } = customer;
    await panel.locator('input[type=file]').setInputFiles([
      { name: 'invoice.txt', mimeType: 'text/plain', buffer: EICAR },
      { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('an ordinary note\n') },
    ]);
    const infected = panel.getByRole('listitem', { name: 'invoice.txt' });
    await infected.getByText(`Contains malware (${EICAR_SIGNATURE}`).waitFor({ timeout: 30_000 });
    assert.match(await infected.textContent(), /: remove it\./);
    const clean = panel.getByRole('listitem', { name: 'note.txt' });
    await eventually('the clean file to be checked', async () => (await clean.getAttribute('data-status')) === 'clean');
    const send = panel.getByRole('button', { name: 'Send' });
    assert.equal(await send.getAttribute('aria-disabled'), 'true');
    await send.hover();
    await panel.getByRole('tooltip').filter({ hasText: 'invoice.txt contains malware: remove it to send.' }).waitFor();
    await customer.page.screenshot({ path: `${OUTPUT}attachments-widget-eicar.png` });
    // Enter does not send it either, and says why.
    const box = panel.getByRole('textbox', { name: 'Message' });
    await box.fill('Invoice attached');
    await box.press('Enter');
    await panel.getByRole('alert').filter({ hasText: 'invoice.txt contains malware: remove it to send.' }).waitFor();
    assert.equal(await customer.log.getByText('Invoice attached').count(), 0);
    // Removing it lets the clean file go.
    await infected.getByRole('button', { name: 'Remove invoice.txt' }).click();
    assert.equal(await send.getAttribute('aria-disabled'), null);
    await send.click();
    await customer.log.getByRole('button', { name: /^Download note\.txt/ }).waitFor();

    // The desk: the same for the agent's paperclip.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()]);
    await chooser.setFiles({ name: 'invoice.txt', mimeType: 'text/plain', buffer: EICAR });
    const chip = page.getByRole('list', { name: 'Attached files' }).getByRole('listitem', { name: 'invoice.txt' });
    await chip.getByText(`Contains malware (${EICAR_SIGNATURE}`).waitFor({ timeout: 30_000 });
    assert.equal(await chip.getAttribute('data-status'), 'infected');
    const deskSend = page.getByRole('button', { name: 'Send' });
    assert.equal(await deskSend.getAttribute('aria-disabled'), 'true');
    await deskSend.hover();
    const tooltip = page.getByRole('tooltip').filter({ hasText: 'invoice.txt contains malware: remove it to send.' });
    await tooltip.waitFor();
    await page.screenshot({ path: `${OUTPUT}attachments-desk-eicar.png` });
    await page.getByRole('textbox', { name: 'Reply' }).fill('Here you go');
    await page.getByRole('textbox', { name: 'Reply' }).press('Enter');
    await page.waitForTimeout(300);
    assert.equal(await page.getByRole('region', { name: 'Transcript with Eve Eicar' }).getByText('Here you go').count(), 0);
    // The contact's clean note arrived, scanned.
    await page.getByRole('region', { name: 'Transcript with Eve Eicar' }).getByRole('button', { name: /^Download note\.txt/ }).waitFor();
  });
});
