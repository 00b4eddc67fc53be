// What the admin forms check as the supervisor types, from the schema's descriptions. The
// server checks it all again; its userErrors show on the same fields.

export const CHANNELS = ['WEBCHAT', 'SMS', 'RCS', 'WHATSAPP', 'EMAIL', 'VOICE'] as const;
export type AdminChannel = (typeof CHANNELS)[number];

export const MIN_PASSWORD = 8;
/** bcrypt's limit, as the server says it. */
export const MAX_PASSWORD_BYTES = 72;

// Plan bounds the server enforces (workspace/admin.go), in seconds.
export const OFFER_TIMEOUT = [5, 600] as const;
export const MAX_WRAP = 3600;
export const AUTO_PARK = [30, 86400] as const;
export const PARKED_TIMEOUT = [60, 7 * 86400] as const;
export const MAX_CODES = 100;

const bytes = (text: string) => new TextEncoder().encode(text).length;

/** A whole number from min to max (max optional), or why not; '' is `empty`'s message. */
export function wholeNumberProblem(text: string, min: number, max?: number, empty = 'Required.'): string | null {
  const t = text.trim();
  if (t === '') return empty;
  if (!/^-?\d+$/.test(t)) return 'Enter a whole number.';
  const n = Number(t);
  if (n < min || (max !== undefined && n > max))
    return max === undefined ? `Enter ${min} or more.` : `Enter a number from ${min} to ${max}.`;
  return null;
}

export interface AgentForm {
  username: string;
  name: string;
  password: string;
  role: 'AGENT' | 'SUPERVISOR';
  planIds: string[];
  /** Capacity per channel as typed; '' leaves the channel as it is (the default on create). */
  capacity: Record<AdminChannel, string>;
  autoAccept: boolean;
}

export type AgentField = 'username' | 'name' | 'password' | `capacity.${AdminChannel}`;

/** Problems of an agent form by field; creating needs a username and a first password. */
export function agentProblems(form: AgentForm, creating: boolean): Partial<Record<AgentField, string>> {
  const p: Partial<Record<AgentField, string>> = {};
  if (creating) {
    if (form.username.trim() === '') p.username = 'Enter the username they sign in with.';
    else if (/\s/.test(form.username.trim())) p.username = 'One word: no spaces.';
    const password = form.password === '' ? 'Enter their first password.' : passwordProblem(form.password);
    if (password) p.password = password;
  }
  if (form.name.trim() === '') p.name = 'Enter the name others see.';
  for (const channel of CHANNELS) {
    const text = form.capacity[channel];
    if (text.trim() === '') continue;
    const problem = wholeNumberProblem(text, 0, 100);
    if (problem) p[`capacity.${channel}`] = problem;
  }
  return p;
}

/** A new password set by a supervisor, or why it cannot be one. */
export function passwordProblem(password: string): string | null {
  if (password === '') return 'Enter the new password.';
  if ([...password].length < MIN_PASSWORD) return `At least ${MIN_PASSWORD} characters.`;
  if (bytes(password) > MAX_PASSWORD_BYTES) return `At most ${MAX_PASSWORD_BYTES} bytes.`;
  return null;
}

export interface CodeRow {
  /** Stable key of the row while editing. */
  key: string;
  code: string;
  label: string;
}

export interface PlanForm {
  name: string;
  channels: AdminChannel[];
  codes: CodeRow[];
  dispositionRequired: boolean;
  wrapSeconds: string;
  offerTimeoutSeconds: string;
  autoAccept: boolean;
  autoPark: boolean;
  autoParkSeconds: string;
  parkedTimeoutSeconds: string;
  /** '' for none. */
  postParkingPlanId: string;
  /** Agent Assist (W4). */
  dispositionAssist: boolean;
  summaryAssist: boolean;
}

/** Problems of a plan form by field key: name, wrapSeconds, …, dispositionCodes.<i>.code|label. */
export function planProblems(form: PlanForm): Record<string, string> {
  const p: Record<string, string> = {};
  if (form.name.trim() === '') p.name = 'Enter the plan’s name.';
  if (form.channels.length === 0) p.channels = 'Choose at least one channel.';
  if (form.codes.length > MAX_CODES) p.dispositionCodes = `At most ${MAX_CODES} codes.`;
  const seen = new Map<string, number>();
  form.codes.forEach((row, i) => {
    const code = row.code.trim();
    if (code === '') p[`dispositionCodes.${i}.code`] = 'Enter the code.';
    else if (!/^[A-Za-z0-9_]+$/.test(code)) p[`dispositionCodes.${i}.code`] = 'Letters, digits and _ only.';
    else if (code.length > 40) p[`dispositionCodes.${i}.code`] = 'At most 40 characters.';
    else if (seen.has(code.toUpperCase())) p[`dispositionCodes.${i}.code`] = 'This code is already in the list.';
    else seen.set(code.toUpperCase(), i);
    if (row.label.trim() === '') p[`dispositionCodes.${i}.label`] = 'Enter what agents see.';
  });
  if (form.dispositionRequired && form.codes.length === 0)
    p.dispositionCodes = 'Add at least one code when a code is required.';
  if (!form.dispositionRequired) {
    const wrap = wholeNumberProblem(form.wrapSeconds, 0, MAX_WRAP, 'Enter the seconds, or 0 for no timer.');
    if (wrap) p.wrapSeconds = wrap;
  }
  const offer = wholeNumberProblem(form.offerTimeoutSeconds, ...OFFER_TIMEOUT);
  if (offer) p.offerTimeoutSeconds = offer;
  if (form.autoPark) {
    const park = wholeNumberProblem(form.autoParkSeconds, ...AUTO_PARK, 'Enter the seconds of silence before parking.');
    if (park) p.autoParkSeconds = park;
  }
  const parked = wholeNumberProblem(form.parkedTimeoutSeconds, ...PARKED_TIMEOUT);
  if (parked) p.parkedTimeoutSeconds = parked;
  return p;
}

export interface CannedForm {
  title: string;
  text: string;
  /** '' for every plan. */
  planId: string;
}

export function cannedProblems(form: CannedForm): Record<string, string> {
  const p: Record<string, string> = {};
  if (form.title.trim() === '') p.title = 'Enter the title agents search for.';
  if (form.text.trim() === '') p.text = 'Enter the text to insert.';
  return p;
}
