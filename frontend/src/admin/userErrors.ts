/** A userError as the admin mutations return it. */
export interface AdminUserError {
  code: string;
  message: string;
  field?: readonly string[] | null;
}

/** Where a form shows errors that name no field of its own. */
export const GENERAL = '_general';

/**
 * Maps userErrors to the form's fields. UserError.field is the path of the input field at
 * fault, e.g. ["input","username"] or ["input","dispositionCodes","1","code"]; the key is that
 * path without "input", joined with dots ("username", "dispositionCodes.1.code"). `place` may
 * move a key elsewhere (e.g. "capacity.2.max" to the channel's field); keys the form does not
 * show (`known` says which it shows) and errors without a field go under GENERAL. Several
 * errors on one field are joined.
 */
export function fieldErrors(
  errors: readonly AdminUserError[],
  known: (key: string) => boolean,
  place: (key: string) => string = (key) => key,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const path = [...(e.field ?? [])];
    if (path[0] === 'input') path.shift();
    let key = path.length ? place(path.join('.')) : GENERAL;
    // A path deeper than the form's fields falls back to the nearest field the form shows.
    while (key !== GENERAL && !known(key)) {
      const cut = key.lastIndexOf('.');
      key = cut < 0 ? GENERAL : key.slice(0, cut);
    }
    out[key] = out[key] ? `${out[key]} ${e.message}` : e.message;
  }
  return out;
}

/** The message of a failed mutation that came as a GraphQL error (FORBIDDEN…) or none at all. */
export function failureMessage(error: { graphQLErrors?: readonly { message: string }[] } | undefined, what: string): string {
  return error?.graphQLErrors?.[0]?.message ?? `${what} failed. Check the connection and try again.`;
}
