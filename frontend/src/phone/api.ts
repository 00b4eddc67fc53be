/**
 * The phone simulator's JSON API on the agentdesk server (served with -demo under
 * /demo/phone/api/): the desk numbers it can text, every message between simulated phones and
 * the desk, sending as a phone (the server signs the webhook as the real provider would), and
 * read receipts for the desk's messages.
 */

export type PhoneChannel = 'SMS' | 'WHATSAPP';

/** A desk number (a channel identity) the simulator can text. */
export interface PhoneIdentity {
  id: string;
  channel: PhoneChannel;
  address: string;
  name: string;
  provider: string;
}

/**
 * One message between a simulated phone and the desk: "in" the phone sent to the desk, "out"
 * the desk sent to the phone (with the template's name when it was one).
 */
export interface PhoneMessage {
  id: string;
  phone: string;
  identityId: string;
  direction: 'in' | 'out';
  text: string;
  template: string | null;
  status: 'sent' | 'delivered' | 'read' | 'failed' | 'received';
  at: string;
  /** The file of the message: one the phone sent, or one the desk sent (with the URL the phone downloads it from). */
  file?: { name: string; contentType: string; size: number; url?: string } | null;
}

export interface PhoneState {
  identities: PhoneIdentity[];
  messages: PhoneMessage[];
}

export interface SendInput {
  phone: string;
  name: string;
  identityId: string;
  text: string;
  /** One image or PDF sent with the text (the text becomes its caption). */
  file?: SendFile;
}

/** A file as the simulator takes it: its bytes in base64 (at most 5 MB decoded). */
export interface SendFile {
  name: string;
  contentType: string;
  data: string;
}

/** The files the phone can send, and how large (the simulator refuses others). */
export const ATTACH_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];
export const ATTACH_MAX_BYTES = 5 * 1024 * 1024;

/** Reads a file the person picked into what `send` takes. */
export function readSendFile(file: File): Promise<SendFile> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve({ name: file.name, contentType: file.type, data: url.slice(url.indexOf(',') + 1) });
    };
    reader.onerror = () => reject(new PhoneApiError(`${file.name} could not be read.`, null));
    reader.readAsDataURL(file);
  });
}

export interface PhoneApi {
  state(): Promise<PhoneState>;
  /** Returns the HTTP status the desk's webhook answered. */
  send(input: SendInput): Promise<number>;
  read(id: string): Promise<void>;
}

/** Why a call failed, in words for the page; `status` is the simulator's own HTTP status. */
export class PhoneApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

async function call(fetchImpl: typeof fetch, url: string, init?: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch {
    throw new PhoneApiError('The agentdesk server does not answer. Is it running?', null);
  }
  if (response.status === 404)
    throw new PhoneApiError('The phone simulator is off: start agentdesk with -demo to use it.', 404);
  if (!response.ok) {
    // The simulator explains itself as {"error": "…"}.
    const body = await response.text().catch(() => '');
    let detail = body.trim();
    try {
      detail = (JSON.parse(body) as { error?: string }).error ?? detail;
    } catch {
      // not JSON: the text as it is
    }
    throw new PhoneApiError(`The simulator answered ${response.status}${detail ? `: ${detail}` : ''}`, response.status);
  }
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export function createPhoneApi(base = '/demo/phone/api', fetchImpl: typeof fetch = (...args) => fetch(...args)): PhoneApi {
  const post = (path: string, body: unknown) =>
    call(fetchImpl, `${base}/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  return {
    async state() {
      const state = (await call(fetchImpl, `${base}/state`, { cache: 'no-store' })) as Partial<PhoneState> | null;
      return { identities: state?.identities ?? [], messages: state?.messages ?? [] };
    },
    async send(input) {
      const answer = (await post('send', input)) as { status?: number } | null;
      return answer?.status ?? 0;
    },
    async read(id) {
      await post('read', { id });
    },
  };
}
