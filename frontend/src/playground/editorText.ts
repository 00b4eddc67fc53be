/**
 * Parsing of the playground's JSON editors. Each parser returns the value or a message saying
 * what is wrong, so the UI can show it next to the editor instead of sending a bad request.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function parseObject(text: string, what: string): Parsed<Record<string, unknown>> {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${what} are not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `${what} must be a JSON object.` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Variables: a JSON object; empty means none. */
export function parseVariables(text: string): Parsed<Record<string, unknown>> {
  return parseObject(text, 'Variables');
}

/**
 * Headers: a JSON object of strings. An Authorization header that is only the pre-filled
 * "Bearer " with no token is left out, so anonymous requests stay anonymous.
 */
export function parseHeaders(text: string): Parsed<Record<string, string>> {
  const parsed = parseObject(text, 'Headers');
  if (!parsed.ok) return parsed;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.value)) {
    if (typeof value !== 'string') {
      return { ok: false, error: `Header "${name}" must be a string.` };
    }
    if (name.toLowerCase() === 'authorization' && /^bearer\s*$/i.test(value.trim())) continue;
    headers[name] = value;
  }
  return { ok: true, value: headers };
}

/**
 * Puts `Bearer <token>` into the headers text, keeping the other headers when the text is a
 * valid object and replacing any Authorization header whatever its casing.
 */
export function withBearerToken(text: string, token: string): string {
  const parsed = parseObject(text, 'Headers');
  const headers = parsed.ok ? parsed.value : {};
  const rest = Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
  return JSON.stringify({ Authorization: `Bearer ${token}`, ...rest }, null, 2);
}

/** Header names that carry credentials: Authorization, cookies, API keys, tokens, secrets. */
const CREDENTIAL_HEADER = /auth|token|key|secret|cookie|session|password/i;
/** Variable names that carry credentials, at any depth: a login's password, a token. */
const CREDENTIAL_VARIABLE = /password|passwd|secret|token|api_?key|authorization/i;

/**
 * The headers text without credentials, for storage: Authorization goes back to the empty
 * "Bearer " and other credential headers are left out. The text is returned as it was when it
 * holds none; null when it is not a JSON object, so nothing unreadable is stored.
 */
export function withoutCredentialHeaders(text: string): string | null {
  const parsed = parseObject(text, 'Headers');
  if (!parsed.ok) return null;
  let changed = false;
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed.value)) {
    const authorization = name.toLowerCase() === 'authorization';
    const emptyBearer = authorization && typeof value === 'string' && /^bearer$/i.test(value.trim());
    if (!CREDENTIAL_HEADER.test(name) || emptyBearer) {
      kept[name] = value;
      continue;
    }
    changed = true;
    if (authorization) kept[name] = 'Bearer ';
  }
  return changed ? JSON.stringify(kept, null, 2) : text;
}

/**
 * The variables text without credentials, for storage: string values of credential-named
 * variables, at any depth, become "". As it was when it holds none; null when not an object.
 */
export function withoutCredentialVariables(text: string): string | null {
  const parsed = parseObject(text, 'Variables');
  if (!parsed.ok) return null;
  let changed = false;
  const scrub = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(scrub);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([name, v]) => {
        if (CREDENTIAL_VARIABLE.test(name) && typeof v === 'string' && v !== '') {
          changed = true;
          return [name, ''];
        }
        return [name, scrub(v)];
      }),
    );
  };
  const scrubbed = scrub(parsed.value);
  return changed ? JSON.stringify(scrubbed, null, 2) : text;
}
