// Attachments (issue 12) without a framework, shared by the SPA and the webchat widget: the
// upload over the GraphQL multipart request spec with progress (XMLHttpRequest), the download
// with the Authorization header, the 25 MB check before uploading (E4), and the list of files
// attached to a reply that is not sent yet, with why Send must wait (E5, the seeds' S6).

/** The largest file the server takes (E4): 25 MB, as workspace.MaxAttachmentBytes. */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;
/** The most files one message takes (workspace.MaxAttachmentsPerMessage). */
export const MAX_FILES_PER_MESSAGE = 10;

export type ScanStatus = 'PENDING' | 'CLEAN' | 'INFECTED' | 'UNSCANNED';

/** An attachment as the API returns it. */
export interface Attachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  url: string;
  scan: ScanStatus;
  threat?: string | null;
}

export interface UploadError {
  code: string;
  message: string;
}

/** What an upload came to: the attachment (an INFECTED one too), or why there is none. */
export interface UploadOutcome {
  attachment?: Attachment;
  error?: UploadError;
}

export interface UploadHandle {
  done: Promise<UploadOutcome>;
  abort(): void;
}

/** Uploads one file, reporting the fraction sent (0 to 1). */
export type Uploader = (file: File, onProgress: (fraction: number) => void) => UploadHandle;

export const ATTACHMENT_FIELDS = 'id fileName contentType size url scan threat';

export const UPLOAD_MUTATION = `mutation UploadAttachment($file: Upload!) { uploadAttachment(input: {file: $file}) { attachment { ${ATTACHMENT_FIELDS} } userErrors { code message field } } }`;

/** The server's TOO_LARGE message (workspace.Upload), said before uploading. */
export function tooLargeMessage(fileName: string): string {
  return `${fileName} is over the ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB limit (E4)`;
}

/** 1,234,567 bytes as "1.2 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)} ${units[unit]}`;
}

/** Whether the browser can show the type in an <img> (an SVG there runs no script). */
export function isPreviewable(contentType: string): boolean {
  return /^image\/(png|jpeg|gif|webp|bmp|svg\+xml)$/.test(contentType);
}

const NETWORK = 'The file was not uploaded: check the connection and try again.';

/** Reads the server's answer to an upload: the payload, or its first error. */
export function parseUploadResponse(status: number, body: string): UploadOutcome {
  let parsed: {
    data?: { uploadAttachment?: { attachment: Attachment | null; userErrors: UploadError[] } | null } | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: { code: 'NETWORK', message: status === 413 ? tooLargeMessage('The file') : NETWORK } };
  }
  const payload = parsed.data?.uploadAttachment;
  const problem = payload?.userErrors[0];
  if (problem) return { error: { code: problem.code, message: problem.message }, attachment: payload.attachment ?? undefined };
  if (payload?.attachment) return { attachment: payload.attachment };
  const error = parsed.errors?.[0];
  return { error: { code: error?.extensions?.code ?? 'NETWORK', message: error?.message ?? NETWORK } };
}

export interface UploaderOptions {
  /** The GraphQL endpoint, e.g. /query or https://desk.example.com/query. */
  url: string;
  /** The session or contact token, read at each upload. */
  token: () => string | null | undefined;
  /** Called when the server says the token is no longer good. */
  onUnauthenticated?: () => void;
  XMLHttpRequest?: typeof XMLHttpRequest;
}

/**
 * An Uploader over XMLHttpRequest (fetch reports no upload progress): the multipart request
 * spec's operations, map and file parts, with the token and the preflight header that
 * cross-site forms cannot send.
 */
export function createUploader({ url, token, onUnauthenticated, XMLHttpRequest: XHR = XMLHttpRequest }: UploaderOptions): Uploader {
  return (file, onProgress) => {
    const xhr = new XHR();
    let settle: (outcome: UploadOutcome) => void = () => {};
    const done = new Promise<UploadOutcome>((resolve) => (settle = resolve));
    xhr.open('POST', url);
    const t = token();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
    xhr.setRequestHeader('GraphQL-Require-Preflight', '1');
    xhr.setRequestHeader('Accept', 'application/graphql-response+json, application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(Math.min(1, event.loaded / event.total));
    };
    xhr.onload = () => {
      const outcome = parseUploadResponse(xhr.status, xhr.responseText);
      if (outcome.error?.code === 'UNAUTHENTICATED') onUnauthenticated?.();
      settle(outcome);
    };
    xhr.onerror = () => settle({ error: { code: 'NETWORK', message: NETWORK } });
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => settle({ error: { code: 'ABORTED', message: 'The upload was cancelled.' } });
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: UPLOAD_MUTATION, variables: { file: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', file, file.name);
    xhr.send(form);
    return { done, abort: () => xhr.abort() };
  };
}

/**
 * GETs an attachment's bytes with the Authorization header (the server has no cookie auth).
 * A refusal (403 for a file the scanner flagged, 404, …) throws with the server's message.
 */
export async function fetchAttachment(
  url: string,
  token: string | null | undefined,
  fetchImpl: typeof fetch = fetch,
): Promise<Blob> {
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  } catch {
    throw new Error('The file could not be downloaded: check the connection and try again.');
  }
  if (!response.ok) {
    let message = `The file could not be downloaded (${response.status}).`;
    try {
      const body = (await response.json()) as { errors?: { message?: string }[] };
      if (body.errors?.[0]?.message) message = body.errors[0].message;
    } catch {
      // not JSON: keep the status
    }
    throw new Error(message);
  }
  return response.blob();
}

/**
 * Hands a downloaded file to the browser as a download named fileName. The object URL is made
 * from an application/octet-stream copy, so even a file that is HTML or SVG can never be opened
 * as a page of this origin (a blob: URL runs in the origin that made it).
 */
export function saveBlob(blob: Blob, fileName: string, container: Element | ShadowRoot = document.body): void {
  const href = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = href;
  link.download = fileName;
  link.rel = 'noopener';
  link.hidden = true;
  container.append(link);
  link.click();
  link.remove();
  // After the browser has started the download.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

// --- the files attached to an unsent reply ---

export type DraftState = 'uploading' | 'uploaded' | 'failed';

/** A file attached to the reply being written. */
export interface DraftFile {
  /** Stable while the draft lives (the attachment ID comes later). */
  key: string;
  name: string;
  size: number;
  type: string;
  /** An object URL of the local file, for images; revoked when the file is removed. */
  preview?: string;
  /** Fraction uploaded, 0 to 1. */
  progress: number;
  state: DraftState;
  /** Once uploaded: what the server stored, with its scan. */
  attachment?: Attachment;
  /** Why it was refused: TOO_LARGE (said before uploading, too), UNSUPPORTED_TYPE, … */
  error?: UploadError;
}

/** What a chip shows. */
export type ChipStatus = 'uploading' | 'too-large' | 'failed' | 'infected' | 'pending' | 'unscanned' | 'clean';

export function chipStatus(draft: DraftFile): ChipStatus {
  if (draft.state === 'uploading') return 'uploading';
  if (draft.attachment?.scan === 'INFECTED') return 'infected';
  if (draft.error?.code === 'TOO_LARGE') return 'too-large';
  if (draft.state === 'failed' || !draft.attachment) return 'failed';
  if (draft.attachment.scan === 'PENDING') return 'pending';
  return draft.attachment.scan === 'UNSCANNED' ? 'unscanned' : 'clean';
}

/** The line a chip shows under the name, or null for a clean file. */
export function chipNote(draft: DraftFile): string | null {
  switch (chipStatus(draft)) {
    case 'uploading':
      return `Uploading… ${Math.round(draft.progress * 100)}%`;
    case 'infected':
      return `Contains malware${draft.attachment?.threat ? ` (${draft.attachment.threat})` : ''}: remove it.`;
    case 'too-large':
    case 'failed':
      return draft.error?.message ?? 'The file was not uploaded.';
    case 'pending':
      return 'Being checked for viruses…';
    case 'unscanned':
      return 'Not scanned for viruses';
    case 'clean':
      return null;
  }
}

const names = (files: DraftFile[]) =>
  files.length === 1 ? files[0]!.name : `${files.slice(0, -1).map((f) => f.name).join(', ')} and ${files.at(-1)!.name}`;

/**
 * Why Send must wait for the attached files, or null when they may go: a file that contains
 * malware, is too big or failed must be removed; one that is uploading must finish (E4, E5, S6).
 */
export function sendBlockedReason(drafts: readonly DraftFile[]): string | null {
  const by = (status: ChipStatus) => drafts.filter((d) => chipStatus(d) === status);
  const infected = by('infected');
  if (infected.length) return `${names(infected)} ${infected.length === 1 ? 'contains' : 'contain'} malware: remove ${infected.length === 1 ? 'it' : 'them'} to send.`;
  const tooLarge = by('too-large');
  if (tooLarge.length) return `${names(tooLarge)} ${tooLarge.length === 1 ? 'is' : 'are'} over the 25 MB limit: remove ${tooLarge.length === 1 ? 'it' : 'them'} to send.`;
  const failed = by('failed');
  if (failed.length) return `${names(failed)} ${failed.length === 1 ? 'was' : 'were'} not uploaded: remove ${failed.length === 1 ? 'it' : 'them'} to send.`;
  const uploading = by('uploading');
  if (uploading.length) return `Wait until ${names(uploading)} ${uploading.length === 1 ? 'has' : 'have'} uploaded.`;
  const pending = by('pending');
  if (pending.length) return `Wait until ${names(pending)} ${pending.length === 1 ? 'has' : 'have'} been checked for viruses.`;
  if (drafts.length > MAX_FILES_PER_MESSAGE)
    return `A message takes at most ${MAX_FILES_PER_MESSAGE} files: remove ${drafts.length - MAX_FILES_PER_MESSAGE}.`;
  return null;
}

export interface DraftList {
  /** The files, in the order they were attached (a new array after each change). */
  list(): readonly DraftFile[];
  /** Attaches files: too big ones are refused at once, the others start uploading. */
  add(files: Iterable<File>): void;
  /** Removes a file: its upload stops and its preview is revoked. */
  remove(key: string): void;
  /** Removes the files of these attachment IDs (sent). */
  removeSent(ids: readonly string[]): void;
  /** Removes every file (sent, or the agent left the interaction). */
  clear(): void;
  /** The attachment IDs to send. */
  ids(): string[];
  subscribe(listener: () => void): () => void;
}

export interface DraftListOptions {
  upload: Uploader;
  /** Makes and revokes the previews' object URLs (tests pass a fake). */
  objectUrls?: Pick<typeof URL, 'createObjectURL' | 'revokeObjectURL'>;
}

let nextKey = 0;

/** The files attached to one unsent reply; nothing is kept anywhere else (E4: not across a reload). */
export function createDraftList({ upload, objectUrls = URL }: DraftListOptions): DraftList {
  let files: DraftFile[] = [];
  const uploads = new Map<string, UploadHandle>();
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());

  const update = (key: string, change: Partial<DraftFile>) => {
    if (!files.some((f) => f.key === key)) return;
    files = files.map((f) => (f.key === key ? { ...f, ...change } : f));
    notify();
  };

  const drop = (file: DraftFile) => {
    uploads.get(file.key)?.abort();
    uploads.delete(file.key);
    if (file.preview) objectUrls.revokeObjectURL(file.preview);
  };

  return {
    list: () => files,
    add(incoming) {
      const added: DraftFile[] = [];
      for (const file of incoming) {
        const key = `draft-${++nextKey}`;
        const draft: DraftFile = {
          key,
          name: file.name,
          size: file.size,
          type: file.type,
          progress: 0,
          state: 'uploading',
        };
        if (file.size > MAX_ATTACHMENT_BYTES) {
          draft.state = 'failed';
          draft.error = { code: 'TOO_LARGE', message: tooLargeMessage(file.name) };
        } else {
          if (isPreviewable(file.type)) draft.preview = objectUrls.createObjectURL(file);
          const handle = upload(file, (progress) => update(key, { progress }));
          uploads.set(key, handle);
          void handle.done.then((outcome) => {
            if (uploads.get(key) !== handle) return; // removed meanwhile
            uploads.delete(key);
            if (outcome.attachment && (!outcome.error || outcome.attachment.scan === 'INFECTED'))
              update(key, { state: 'uploaded', progress: 1, attachment: outcome.attachment, error: outcome.error });
            else update(key, { state: 'failed', error: outcome.error ?? { code: 'NETWORK', message: 'The file was not uploaded.' } });
          });
        }
        added.push(draft);
      }
      if (added.length === 0) return;
      files = [...files, ...added];
      notify();
    },
    remove(key) {
      const file = files.find((f) => f.key === key);
      if (!file) return;
      drop(file);
      files = files.filter((f) => f !== file);
      notify();
    },
    removeSent(ids) {
      const sent = files.filter((f) => f.attachment && ids.includes(f.attachment.id));
      if (sent.length === 0) return;
      sent.forEach(drop);
      files = files.filter((f) => !sent.includes(f));
      notify();
    },
    clear() {
      if (files.length === 0) return;
      files.forEach(drop);
      files = [];
      notify();
    },
    ids: () => files.flatMap((f) => (f.attachment ? [f.attachment.id] : [])),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
