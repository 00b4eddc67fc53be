import { act, createEvent, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Composer } from '../interaction/Composer';
import { message } from '../testing/fixtures';
import { mockClient } from '../testing/mockClient';
import { MAX_ATTACHMENT_BYTES, type Attachment, type UploadOutcome } from './core';
import { AttachmentTransportProvider, type AttachmentTransport } from './transport';

// The reply box's attachments (C2, E4, E5, S5–S7) with a fake transport the test finishes.

const attachment = (overrides: Partial<Attachment> = {}): Attachment => ({
  id: 'att-1',
  fileName: 'photo.png',
  contentType: 'image/png',
  size: 2048,
  url: '/attachments/att-1',
  scan: 'UNSCANNED',
  threat: null,
  ...overrides,
});

function setUp() {
  const uploads: { file: File; progress: (f: number) => void; finish: (o: UploadOutcome) => void; abort: ReturnType<typeof vi.fn> }[] = [];
  const transport: AttachmentTransport = {
    upload: vi.fn((file: File, progress: (f: number) => void) => {
      let finish!: (o: UploadOutcome) => void;
      const done = new Promise<UploadOutcome>((resolve) => (finish = resolve));
      const abort = vi.fn();
      uploads.push({ file, progress, finish, abort });
      return { done, abort };
    }),
    open: vi.fn(),
    imageUrl: vi.fn(),
    dispose: vi.fn(),
  };
  const client = mockClient((request) => {
    const input = (request.variables as { input: { text: string } }).input;
    return {
      data: {
        sendMessage: {
          __typename: 'SendMessagePayload',
          message: message({ id: 'm-9', interactionId: 'i-1', from: 'AGENT', text: input.text }),
          userErrors: [],
        },
      },
    };
  });
  const Urql = client.wrapper;
  const wrapper = ({ children }: { children: ReactNode }) => (
    <Urql>
      <AttachmentTransportProvider value={transport}>{children}</AttachmentTransportProvider>
    </Urql>
  );
  // happy-dom has object URLs for Blobs; the previews need only a string.
  vi.spyOn(URL, 'createObjectURL').mockImplementation(() => `blob:preview-${uploads.length}`);
  const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
  return { uploads, transport, executeMutation: client.executeMutation, wrapper, revoke };
}

const png = (name = 'photo.png', size?: number) => {
  const file = new File(['png'], name, { type: 'image/png' });
  if (size !== undefined) Object.defineProperty(file, 'size', { value: size });
  return file;
};

const fileInput = () => document.querySelector('input[type=file]') as HTMLInputElement;
const chip = (name: string) => screen.getByRole('listitem', { name });
const send = () => screen.getByRole('button', { name: 'Send' });

async function finish(upload: { finish: (o: UploadOutcome) => void }, outcome: UploadOutcome) {
  await act(async () => upload.finish(outcome));
}

describe('Composer attachments', () => {
  it('C2: the paperclip opens a picker for several files; each uploads as a chip with its progress, preview and scan', async () => {
    const { uploads, wrapper, executeMutation } = setUp();
    const user = userEvent.setup();
    render(<Composer interactionId="i-1" state="ACTIVE" />, { wrapper });
    const clip = screen.getByRole('button', { name: 'Attach files' });
    expect(fileInput().multiple).toBe(true);
    const opened = vi.fn();
    fileInput().addEventListener('click', opened);
    await user.click(clip);
    expect(opened).toHaveBeenCalled();

    await user.upload(fileInput(), [png(), new File(['%PDF-'], 'invoice.pdf', { type: 'application/pdf' })]);
    expect(uploads.map((u) => u.file.name)).toEqual(['photo.png', 'invoice.pdf']);
    const photo = chip('photo.png');
    expect(within(photo).getByText('3 B')).toBeTruthy();
    expect(photo.querySelector('img')!.getAttribute('src')).toMatch(/^blob:/);
    expect(chip('invoice.pdf').querySelector('img')).toBeNull();
    act(() => uploads[0]!.progress(0.4));
    expect(within(photo).getByRole('progressbar', { name: 'Uploading photo.png' })).toHaveProperty('value', 0.4);

    // Send waits while they upload, and says why.
    expect(send().getAttribute('aria-disabled')).toBe('true');
    await user.hover(send());
    expect((await screen.findByRole('tooltip')).textContent).toBe('Wait until photo.png and invoice.pdf have uploaded.');
    await user.click(send());
    expect(executeMutation).not.toHaveBeenCalled();

    await finish(uploads[0]!, { attachment: attachment() });
    await finish(uploads[1]!, { attachment: attachment({ id: 'att-2', fileName: 'invoice.pdf', scan: 'CLEAN' }) });
    expect(within(chip('photo.png')).getByText('Not scanned for viruses')).toBeTruthy();
    expect(within(chip('invoice.pdf')).queryByText(/scanned/)).toBeNull();
    expect(send().getAttribute('aria-disabled')).toBeNull();
    expect(send()).toHaveProperty('disabled', false);

    // Files alone are a reply: text may be empty.
    await user.click(send());
    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { interactionId: 'i-1', text: '', attachmentIds: ['att-1', 'att-2'] },
    });
    expect(screen.queryByRole('list', { name: 'Attached files' })).toBeNull();
  });

  it('E5: an infected file says so and blocks Send, which says why on hover and focus, until it is removed', async () => {
    const { uploads, wrapper, executeMutation, revoke } = setUp();
    const user = userEvent.setup();
    render(<Composer interactionId="i-1" state="ACTIVE" />, { wrapper });
    await user.type(screen.getByRole('textbox', { name: 'Reply' }), 'See attached');
    await user.upload(fileInput(), png('invoice.png'));
    await finish(uploads[0]!, {
      attachment: attachment({ fileName: 'invoice.png', scan: 'INFECTED', threat: 'Eicar-Test-Signature' }),
      error: { code: 'INFECTED', message: 'invoice.png contains malware' },
    });
    const infected = chip('invoice.png');
    expect(infected.getAttribute('data-status')).toBe('infected');
    expect(within(infected).getByRole('alert').textContent).toBe('Contains malware (Eicar-Test-Signature): remove it.');
    expect(send().getAttribute('aria-disabled')).toBe('true');
    // The reason is Send's description, and a tooltip on focus.
    const why = 'invoice.png contains malware: remove it to send.';
    expect(document.getElementById(send().getAttribute('aria-describedby')!.split(' ')[0]!)!.textContent).toBe(why);
    await user.click(screen.getByRole('textbox', { name: 'Reply' }));
    await user.tab(); // from the box to the paperclip…
    await user.tab(); // …to Send
    expect(document.activeElement).toBe(send());
    expect((await screen.findByRole('tooltip')).textContent).toBe(why);
    await user.keyboard('{Enter}');
    await user.type(screen.getByRole('textbox', { name: 'Reply' }), '{Enter}');
    expect(executeMutation).not.toHaveBeenCalled();

    await user.click(within(infected).getByRole('button', { name: 'Remove invoice.png' }));
    expect(screen.queryByRole('listitem', { name: 'invoice.png' })).toBeNull();
    expect(revoke).toHaveBeenCalled();
    expect(send().getAttribute('aria-disabled')).toBeNull();
  });

  it('E4: a file over 25 MB is refused before uploading with the server’s message, and Send says to remove it', async () => {
    const { uploads, wrapper } = setUp();
    const user = userEvent.setup();
    render(<Composer interactionId="i-1" state="ACTIVE" />, { wrapper });
    await user.upload(fileInput(), png('huge.png', MAX_ATTACHMENT_BYTES + 1));
    expect(uploads).toHaveLength(0);
    expect(within(chip('huge.png')).getByRole('alert').textContent).toBe('huge.png is over the 25 MB limit (E4)');
    expect(send().getAttribute('aria-disabled')).toBe('true');
    await user.hover(send());
    expect((await screen.findByRole('tooltip')).textContent).toBe('huge.png is over the 25 MB limit: remove it to send.');
  });

  it('shows the server’s refusal on the chip', async () => {
    const { uploads, wrapper } = setUp();
    const user = userEvent.setup();
    render(<Composer interactionId="i-1" state="ACTIVE" />, { wrapper });
    await user.upload(fileInput(), png('setup.png'));
    await finish(uploads[0]!, {
      error: { code: 'UNSUPPORTED_TYPE', message: 'files of this type are not taken (application/x-msdownload)' },
    });
    expect(within(chip('setup.png')).getByRole('alert').textContent).toBe(
      'files of this type are not taken (application/x-msdownload)',
    );
    await user.hover(send());
    expect((await screen.findByRole('tooltip')).textContent).toBe('setup.png was not uploaded: remove it to send.');
  });

  it('S5: files dropped on the composer are attached', async () => {
    const { uploads, wrapper } = setUp();
    render(<Composer interactionId="i-1" state="ACTIVE" />, { wrapper });
    const box = screen.getByRole('textbox', { name: 'Reply' });
    const files = [png('drop.png')];
    const dataTransfer = { types: ['Files'], files, dropEffect: 'none' };
    const drag = (type: 'dragEnter' | 'dragOver' | 'drop') => {
      const event = createEvent[type](box);
      Object.defineProperty(event, 'dataTransfer', { value: dataTransfer });
      fireEvent(box, event);
      return event;
    };
    drag('dragEnter');
    expect(screen.getByText('Drop the files to attach them')).toBeTruthy();
    expect(drag('dragOver').defaultPrevented).toBe(true);
    expect(drag('drop').defaultPrevented).toBe(true);
    expect(uploads.map((u) => u.file.name)).toEqual(['drop.png']);
    expect(chip('drop.png')).toBeTruthy();
    expect(screen.queryByText('Drop the files to attach them')).toBeNull();
  });

  it('S7: attached files are dropped when the agent switches to another interaction; the text stays', async () => {
    const { uploads, wrapper } = setUp();
    const user = userEvent.setup();
    // The desk mounts one Composer per open interaction (InteractionArea is keyed by its ID).
    const { unmount } = render(<Composer key="i-31" interactionId="i-31" state="ACTIVE" />, { wrapper });
    await user.type(screen.getByRole('textbox', { name: 'Reply' }), 'Half a thought');
    await user.upload(fileInput(), [png('a.png'), png('b.png')]);
    await finish(uploads[0]!, { attachment: attachment({ id: 'att-a', fileName: 'a.png' }) });
    unmount();
    expect(uploads[1]!.abort).toHaveBeenCalled(); // the upload still going stops

    render(<Composer key="i-32" interactionId="i-32" state="ACTIVE" />, { wrapper });
    expect(screen.queryByRole('list', { name: 'Attached files' })).toBeNull();
    const again = render(<Composer key="i-31" interactionId="i-31" state="ACTIVE" />, { wrapper });
    expect(within(again.container).getByRole('textbox', { name: 'Reply' })).toHaveProperty('value', 'Half a thought');
    expect(within(again.container).queryByRole('list', { name: 'Attached files' })).toBeNull();
  });

  it('S7: the same Composer given another interaction drops its files too', async () => {
    const { uploads, wrapper } = setUp();
    const user = userEvent.setup();
    const { rerender } = render(<Composer interactionId="i-41" state="ACTIVE" />, { wrapper });
    await user.upload(fileInput(), png('a.png'));
    rerender(<Composer interactionId="i-42" state="ACTIVE" />);
    expect(uploads[0]!.abort).toHaveBeenCalled();
    expect(screen.queryByRole('list', { name: 'Attached files' })).toBeNull();
  });

  it('the paperclip is closed with the box', () => {
    const { wrapper } = setUp();
    render(<Composer interactionId="i-1" state="WRAP" />, { wrapper });
    expect(screen.getByRole('button', { name: 'Attach files' })).toHaveProperty('disabled', true);
  });
});
