/**
 * The agent's signature in an email reply (E2): one paragraph block, kept apart from what the
 * agent writes so that it is inserted once, stays at the bottom, and is never duplicated by
 * switching tabs or parking (the draft holds the body alone; the signature joins it on send).
 */

/** The HTML sent for a reply: the body, then the signature as its own block. */
export function replyHtml(body: string, signature: string): string {
  const b = isEmptyHtml(body) ? '' : body;
  const s = signature.trim();
  if (s === '') return b;
  return `${b}<div class="signature">${s}</div>`;
}

/** Whether HTML shows nothing: no text and no image. */
export function isEmptyHtml(html: string): boolean {
  if (/<img\b/i.test(html)) return false;
  return html.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').trim() === '';
}

/** Plain text of HTML, a line per block (the alternative part is made on the server too). */
export function htmlText(html: string): string {
  return html
    .replace(/<(br|\/p|\/div|\/li|\/h[1-6])\s*\/?>/gi, '\n')
    .replace(/<li>/gi, '- ')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A bare email address: something@domain.tld, one of them (E3). */
const addressPattern = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

/** Why the To of an outbound email cannot be sent to, or null when it is one valid address (E3). */
export function recipientProblem(to: string): string | null {
  const t = to.trim();
  if (t === '') return 'Enter the recipient’s email address.';
  if (/[,;]/.test(t)) return 'Enter exactly one address: an email goes to one recipient, without CC or BCC.';
  if (!addressPattern.test(t)) return 'This is not an email address, e.g. name@example.com.';
  return null;
}

/** Why the subject cannot be sent, or null (E3). */
export function subjectProblem(subject: string): string | null {
  return subject.trim() === '' ? 'Enter a subject: it cannot be only spaces.' : null;
}

/**
 * The HTML of an inbound email with its remote images shown: data-remote-src moved into src.
 * The server keeps remote sources only there, so nothing loads until the agent asks (C5).
 */
export function withRemoteImages(html: string): string {
  return html.replace(/\sdata-remote-src="([^"]*)"/g, ' src="$1"');
}

export function hasRemoteImages(html: string): boolean {
  return /\sdata-remote-src="/.test(html);
}
