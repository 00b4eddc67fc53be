import { describe, expect, it, vi } from 'vitest';
import {
  chipNote,
  chipStatus,
  createDraftList,
  createUploader,
  formatSize,
  MAX_ATTACHMENT_BYTES,
  parseUploadResponse,
  sendBlockedReason,
  UPLOAD_MUTATION,
  type Attachment,
  type DraftFile,
  type UploadOutcome,
} from './core';

const attachment = (overrides: Partial<Attachment> = {}): Attachment => ({
  id: 'a-1',
  fileName: 'photo.png',
  contentType: 'image/png',
  size: 2048,
  url: '/attachments/a-1',
  scan: 'UNSCANNED',
  threat: null,
  ...overrides,
});

const draft = (overrides: Partial<DraftFile> = {}): DraftFile => ({
  key: 'k',
  name: 'photo.png',
  size: 2048,
  type: 'image/png',
  progress: 0,
  state: 'uploading',
  ...overrides,
});

/** A file of `size` bytes without allocating them. */
function fileOf(name: string, size: number, type = 'image/png'): File {
  const file = new File(['x'], name, { type });
  Object.defineProperty(file, 'size', { value: size });
  return file;
}

/** An uploader whose uploads the test finishes, one deferred per file. */
function fakeUploader() {
  const uploads: { file: File; progress: (f: number) => void; finish: (o: UploadOutcome) => void; abort: ReturnType<typeof vi.fn> }[] = [];
  const upload = vi.fn((file: File, progress: (f: number) => void) => {
    let finish!: (o: UploadOutcome) => void;
    const done = new Promise<UploadOutcome>((resolve) => (finish = resolve));
    const abort = vi.fn();
    uploads.push({ file, progress, finish, abort });
    return { done, abort };
  });
  return { upload, uploads };
}

const urls = () => ({ createObjectURL: vi.fn(() => `blob:preview-${Math.random()}`), revokeObjectURL: vi.fn() });

describe('chips', () => {
  it('say what state each file is in', () => {
    expect([chipStatus(draft()), chipNote(draft({ progress: 0.42 }))]).toEqual(['uploading', 'Uploading… 42%']);
    const unscanned = draft({ state: 'uploaded', attachment: attachment() });
    expect([chipStatus(unscanned), chipNote(unscanned)]).toEqual(['unscanned', 'Not scanned for viruses']);
    const clean = draft({ state: 'uploaded', attachment: attachment({ scan: 'CLEAN' }) });
    expect([chipStatus(clean), chipNote(clean)]).toEqual(['clean', null]);
    const infected = draft({
      state: 'uploaded',
      attachment: attachment({ scan: 'INFECTED', threat: 'Eicar-Test-Signature' }),
    });
    expect([chipStatus(infected), chipNote(infected)]).toEqual(['infected', 'Contains malware (Eicar-Test-Signature): remove it.']);
    const tooLarge = draft({ state: 'failed', error: { code: 'TOO_LARGE', message: 'big.mov is over the 25 MB limit (E4)' } });
    expect([chipStatus(tooLarge), chipNote(tooLarge)]).toEqual(['too-large', 'big.mov is over the 25 MB limit (E4)']);
    const refused = draft({ state: 'failed', error: { code: 'UNSUPPORTED_TYPE', message: 'files of this type are not taken' } });
    expect([chipStatus(refused), chipNote(refused)]).toEqual(['failed', 'files of this type are not taken']);
  });

  it('sizes read as people write them', () => {
    expect([formatSize(0), formatSize(1023), formatSize(2048), formatSize(400_128), formatSize(1_500_000), formatSize(MAX_ATTACHMENT_BYTES)]).toEqual([
      '0 B',
      '1023 B',
      '2 KB',
      '391 KB',
      '1.4 MB',
      '25 MB',
    ]);
  });
});

describe('why Send waits', () => {
  const uploaded = (name: string, scan: Attachment['scan'] = 'UNSCANNED') =>
    draft({ key: name, name, state: 'uploaded', progress: 1, attachment: attachment({ id: name, fileName: name, scan }) });

  it('nothing to wait for: clean, unscanned or no files', () => {
    expect(sendBlockedReason([])).toBeNull();
    expect(sendBlockedReason([uploaded('a.png'), uploaded('b.pdf', 'CLEAN')])).toBeNull();
  });

  it('a file uploading, being scanned, too big, failed or infected, the worst first', () => {
    const uploading = draft({ key: 'u', name: 'slow.mov' });
    const tooLarge = draft({ key: 't', name: 'huge.mov', state: 'failed', error: { code: 'TOO_LARGE', message: '' } });
    const failed = draft({ key: 'f', name: 'app.exe', state: 'failed', error: { code: 'UNSUPPORTED_TYPE', message: '' } });
    const infected = uploaded('invoice.txt', 'INFECTED');
    expect(sendBlockedReason([uploading])).toBe('Wait until slow.mov has uploaded.');
    expect(sendBlockedReason([uploading, draft({ key: 'v', name: 'b.mov' })])).toBe('Wait until slow.mov and b.mov have uploaded.');
    expect(sendBlockedReason([uploaded('scan.pdf', 'PENDING')])).toBe('Wait until scan.pdf has been checked for viruses.');
    expect(sendBlockedReason([uploading, failed])).toBe('app.exe was not uploaded: remove it to send.');
    expect(sendBlockedReason([uploading, failed, tooLarge])).toBe('huge.mov is over the 25 MB limit: remove it to send.');
    expect(sendBlockedReason([uploading, failed, tooLarge, infected])).toBe('invoice.txt contains malware: remove it to send.');
    expect(sendBlockedReason([infected, uploaded('x.txt', 'INFECTED')])).toBe('invoice.txt and x.txt contain malware: remove them to send.');
  });

  it('more files than a message takes', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => uploaded(`f${i}.png`));
    expect(sendBlockedReason(eleven)).toBe('A message takes at most 10 files: remove 1.');
  });
});

describe('the files of an unsent reply', () => {
  it('E4: a file over 25 MB is refused before uploading, with the server’s message; 25 MB exactly is uploaded', () => {
    const { upload } = fakeUploader();
    const list = createDraftList({ upload, objectUrls: urls() });
    list.add([fileOf('huge.mov', MAX_ATTACHMENT_BYTES + 1, 'video/mp4'), fileOf('limit.mov', MAX_ATTACHMENT_BYTES, 'video/mp4')]);
    expect(upload).toHaveBeenCalledTimes(1);
    expect(upload.mock.calls[0]![0].name).toBe('limit.mov');
    const [huge, limit] = list.list();
    expect(huge).toMatchObject({ state: 'failed', error: { code: 'TOO_LARGE', message: 'huge.mov is over the 25 MB limit (E4)' } });
    expect(limit).toMatchObject({ state: 'uploading' });
    expect(sendBlockedReason(list.list())).toBe('huge.mov is over the 25 MB limit: remove it to send.');
  });

  it('uploads at once, reports progress, and keeps what the server said', async () => {
    const { upload, uploads } = fakeUploader();
    const objectUrls = urls();
    const list = createDraftList({ upload, objectUrls });
    const changes = vi.fn();
    list.subscribe(changes);
    list.add([fileOf('photo.png', 2048), fileOf('notes.pdf', 900, 'application/pdf'), fileOf('eicar.txt', 68, 'text/plain')]);
    // Images get a preview from the local file; others do not.
    expect(list.list().map((f) => f.preview !== undefined)).toEqual([true, false, false]);

    uploads[0]!.progress(0.5);
    expect(list.list()[0]!.progress).toBe(0.5);
    uploads[0]!.finish({ attachment: attachment() });
    uploads[1]!.finish({ error: { code: 'UNSUPPORTED_TYPE', message: 'files of this type are not taken' } });
    uploads[2]!.finish({
      attachment: attachment({ id: 'a-3', fileName: 'eicar.txt', scan: 'INFECTED', threat: 'Eicar-Test-Signature' }),
      error: { code: 'INFECTED', message: 'eicar.txt contains malware' },
    });
    await vi.waitFor(() => expect(list.list().every((f) => f.state !== 'uploading')).toBe(true));
    expect(list.list().map(chipStatus)).toEqual(['unscanned', 'failed', 'infected']);
    expect(list.ids()).toEqual(['a-1', 'a-3']);
    expect(changes).toHaveBeenCalled();
  });

  it('removing a file stops its upload and revokes its preview; clear drops them all', async () => {
    const { upload, uploads } = fakeUploader();
    const objectUrls = urls();
    const list = createDraftList({ upload, objectUrls });
    list.add([fileOf('a.png', 10), fileOf('b.png', 10)]);
    const [a, b] = list.list();
    list.remove(a!.key);
    expect(uploads[0]!.abort).toHaveBeenCalled();
    expect(objectUrls.revokeObjectURL).toHaveBeenCalledWith(a!.preview);
    // A late answer for a removed file changes nothing.
    uploads[0]!.finish({ attachment: attachment({ id: 'late' }) });
    await Promise.resolve();
    expect(list.list().map((f) => f.name)).toEqual(['b.png']);

    list.clear();
    expect(uploads[1]!.abort).toHaveBeenCalled();
    expect(objectUrls.revokeObjectURL).toHaveBeenCalledWith(b!.preview);
    expect(list.list()).toEqual([]);
  });

  it('removeSent drops only the files that went', async () => {
    const { upload, uploads } = fakeUploader();
    const list = createDraftList({ upload, objectUrls: urls() });
    list.add([fileOf('a.png', 10), fileOf('b.png', 10)]);
    uploads[0]!.finish({ attachment: attachment({ id: 'a' }) });
    uploads[1]!.finish({ attachment: attachment({ id: 'b' }) });
    await vi.waitFor(() => expect(list.ids()).toEqual(['a', 'b']));
    list.removeSent(['a']);
    expect(list.ids()).toEqual(['b']);
  });
});

describe('the upload request', () => {
  it('parses payloads, userErrors and transport errors', () => {
    const ok = JSON.stringify({ data: { uploadAttachment: { attachment: attachment(), userErrors: [] } } });
    expect(parseUploadResponse(200, ok)).toEqual({ attachment: attachment() });
    const refused = JSON.stringify({
      data: { uploadAttachment: { attachment: null, userErrors: [{ code: 'TOO_LARGE', message: 'big.png is over the 25 MB limit (E4)', field: ['file'] }] } },
    });
    expect(parseUploadResponse(200, refused)).toEqual({ error: { code: 'TOO_LARGE', message: 'big.png is over the 25 MB limit (E4)' } });
    const unauthenticated = JSON.stringify({ errors: [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(parseUploadResponse(401, unauthenticated).error?.code).toBe('UNAUTHENTICATED');
    expect(parseUploadResponse(502, '<html>').error?.code).toBe('NETWORK');
  });

  it('follows the multipart request spec with the token and the preflight header, and reports progress', async () => {
    const sent: { method?: string; url?: string; headers: Record<string, string>; body?: FormData } = { headers: {} };
    const made: FakeXHR[] = [];
    class FakeXHR {
      upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      ontimeout: (() => void) | null = null;
      onabort: (() => void) | null = null;
      status = 0;
      responseText = '';
      constructor() {
        made.push(this);
      }
      open(method: string, url: string) {
        sent.method = method;
        sent.url = url;
      }
      setRequestHeader(name: string, value: string) {
        sent.headers[name] = value;
      }
      send(body: FormData) {
        sent.body = body;
      }
      abort() {
        this.onabort?.();
      }
    }
    const onUnauthenticated = vi.fn();
    const upload = createUploader({
      url: '/query',
      token: () => 'tok-1',
      onUnauthenticated,
      XMLHttpRequest: FakeXHR as unknown as typeof XMLHttpRequest,
    });
    const progress = vi.fn();
    const file = new File(['png bytes'], 'photo.png', { type: 'image/png' });
    const handle = upload(file, progress);
    let xhr = made.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/query');
    expect(sent.headers).toMatchObject({ Authorization: 'Bearer tok-1', 'GraphQL-Require-Preflight': '1' });
    expect(JSON.parse(sent.body!.get('operations') as string)).toEqual({ query: UPLOAD_MUTATION, variables: { file: null } });
    expect(JSON.parse(sent.body!.get('map') as string)).toEqual({ 0: ['variables.file'] });
    expect((sent.body!.get('0') as File).name).toBe('photo.png');

    xhr.upload.onprogress!({ lengthComputable: true, loaded: 25, total: 100 } as ProgressEvent);
    expect(progress).toHaveBeenCalledWith(0.25);
    xhr.status = 200;
    xhr.responseText = JSON.stringify({ data: { uploadAttachment: { attachment: attachment(), userErrors: [] } } });
    xhr.onload!();
    expect(await handle.done).toEqual({ attachment: attachment() });

    // A refused token signs the session out.
    const second = upload(file, progress);
    xhr = made.at(-1)!;
    xhr.status = 401;
    xhr.responseText = JSON.stringify({ errors: [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }] });
    xhr.onload!();
    expect((await second.done).error?.code).toBe('UNAUTHENTICATED');
    expect(onUnauthenticated).toHaveBeenCalled();

    const third = upload(file, progress);
    third.abort();
    expect((await third.done).error?.code).toBe('ABORTED');
  });
});
