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
