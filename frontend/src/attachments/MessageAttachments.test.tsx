import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { MessageAttachments } from './MessageAttachments';
import { AttachmentTransportProvider, type AttachmentTransport } from './transport';

const files = [
  { id: 'a1', fileName: 'tear.png', contentType: 'image/png', size: 400_128, url: '/attachments/a1', scan: 'UNSCANNED' as const },
  { id: 'a2', fileName: 'receipt.pdf', contentType: 'application/pdf', size: 900, url: '/attachments/a2', scan: 'CLEAN' as const },
];

function transport(overrides: Partial<AttachmentTransport> = {}): AttachmentTransport {
  return {
    upload: vi.fn(),
    open: vi.fn(async () => new Blob(['%PDF-'], { type: 'application/pdf' })),
    imageUrl: vi.fn(async (url: string) => `blob:image-for-${url}`),
    dispose: vi.fn(),
    ...overrides,
  };
}

describe('MessageAttachments', () => {
  it('shows images as thumbnails fetched with the session and every file as a download with its name and size', async () => {
    const t = transport();
    render(
      <AttachmentTransportProvider value={t}>
        <MessageAttachments attachments={files} />
      </AttachmentTransportProvider>,
    );
    expect(((await screen.findByRole('img', { name: 'tear.png' })) as HTMLImageElement).getAttribute('src')).toBe(
      'blob:image-for-/attachments/a1',
    );
    expect(t.imageUrl).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('button', { name: 'Download tear.png, 391 KB' })).toBeTruthy();

    // A download fetches with the session and saves under the file's name.
    const clicked: { download: string; href: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ download: this.download, href: this.href });
    });
    vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:download');
    await userEvent.click(screen.getByRole('button', { name: 'Download receipt.pdf, 900 B' }));
    expect(t.open).toHaveBeenCalledWith('/attachments/a2');
    expect(clicked).toEqual([{ download: 'receipt.pdf', href: 'blob:download' }]);
  });

  it('says why a download failed', async () => {
    const t = transport({ open: vi.fn(async () => Promise.reject(new Error('You may not read this file.'))) });
    render(
      <AttachmentTransportProvider value={t}>
        <MessageAttachments attachments={[files[1]!]} />
      </AttachmentTransportProvider>,
    );
    await userEvent.click(screen.getByRole('button', { name: /^Download receipt\.pdf/ }));
    expect((await screen.findByRole('alert')).textContent).toBe('You may not read this file.');
  });
});
