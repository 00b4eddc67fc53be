import { describe, expect, it } from 'vitest';
import { hasRemoteImages, htmlText, isEmptyHtml, recipientProblem, replyHtml, subjectProblem, withRemoteImages } from './signature';

describe('email signature and fields (E2, E3)', () => {
  it('E2: puts the signature once, as its own block after the body', () => {
    const html = replyHtml('<p>Hello</p>', '<p>Alice</p>');
    expect(html).toBe('<p>Hello</p><div class="signature"><p>Alice</p></div>');
    expect(html.match(/class="signature"/g)).toHaveLength(1);
    expect(replyHtml('<p></p>', '<p>Alice</p>')).toBe('<div class="signature"><p>Alice</p></div>');
    expect(replyHtml('<p>Hi</p>', '  ')).toBe('<p>Hi</p>');
  });
  it('knows an empty body', () => {
    expect(isEmptyHtml('<p></p>')).toBe(true);
    expect(isEmptyHtml('<p>&nbsp;</p>')).toBe(true);
    expect(isEmptyHtml('<p><img src="data:image/png;base64,AA"></p>')).toBe(false);
  });
  it('makes plain text of HTML', () => {
    expect(htmlText('<p>Hello <b>Pat</b></p><ul><li>one</li></ul>')).toBe('Hello Pat\n- one');
  });
  it('E3: exactly one valid To', () => {
    expect(recipientProblem('')).toMatch(/Enter the recipient/);
    expect(recipientProblem('a@b.com, c@d.com')).toMatch(/exactly one/);
    expect(recipientProblem('a@b.com; c@d.com')).toMatch(/exactly one/);
    expect(recipientProblem('not an address')).toMatch(/not an email/);
    expect(recipientProblem('pat@example.com')).toBeNull();
    expect(subjectProblem('  ')).toMatch(/subject/);
    expect(subjectProblem('Hi')).toBeNull();
  });
  it('C5: shows remote images only when asked', () => {
    const html = '<p><img data-remote-src="https://t.example/p.gif" alt="x"></p>';
    expect(hasRemoteImages(html)).toBe(true);
    expect(withRemoteImages(html)).toBe('<p><img src="https://t.example/p.gif" alt="x"></p>');
  });
});

describe('E3: the outbound email dialog says why Send waits', () => {
  it('names the first missing piece: address, one recipient, subject, body', async () => {
    const { startProblem } = await import('../outbound/StartOutboundDialog');
    const base = { channel: 'EMAIL' as const, identityId: 'id-1', text: '', choice: { template: null, parameters: [] } as never };
    expect(startProblem({ ...base, identityId: null, to: 'pat@example.com', subject: 'Hi', html: '<p>x</p>' })).toMatch(/address to send from/);
    expect(startProblem({ ...base, to: 'pat@example.com, sam@example.com', subject: 'Hi', html: '<p>x</p>' })).toMatch(/exactly one/);
    expect(startProblem({ ...base, to: 'pat@example.com', subject: '   ', html: '<p>x</p>' })).toMatch(/subject/);
    expect(startProblem({ ...base, to: 'pat@example.com', subject: 'Hi', html: '<p></p>' })).toMatch(/Write the message/);
    expect(startProblem({ ...base, to: 'pat@example.com', subject: 'Hi', html: '<p>x</p>' })).toBeNull();
  });
});
