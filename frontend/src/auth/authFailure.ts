import type { CombinedError } from '@urql/core';

/** The close code the server uses when a websocket's connection_init carries a bad token. */
export const FORBIDDEN_CLOSE_CODE = 4403;

/** True when any GraphQL error says the request had no valid session. */
export function isUnauthenticated(error: CombinedError | undefined): boolean {
  return (
    error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false
  );
}

/** True when a websocket close event means the server refused our token. */
export function isForbiddenClose(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    'code' in event &&
    (event as { code: unknown }).code === FORBIDDEN_CLOSE_CODE
  );
}

/**
 * Why the server closed the socket with 4403, for the sign-in screen: the session expired, the
 * account was disabled, the password was changed. Null when there is nothing to tell: a close
 * without a reason, or the agent's own sign-out (here or in another tab), which they know of.
 */
export function signedOutReason(event: unknown): string | null {
  if (!isForbiddenClose(event) || typeof (event as { reason?: unknown }).reason !== 'string') {
    return null;
  }
  const reason = (event as { reason: string }).reason.replace(/^Forbidden:\s*/, '').trim();
  if (reason === '' || reason.includes('you signed out')) return null;
  return reason;
}
