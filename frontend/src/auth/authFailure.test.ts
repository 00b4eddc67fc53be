import { CombinedError } from '@urql/core';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isForbiddenClose, isUnauthenticated, signedOutReason } from './authFailure';

describe('isUnauthenticated', () => {
  it('finds UNAUTHENTICATED among the GraphQL errors', () => {
    const error = new CombinedError({
      graphQLErrors: [
        new GraphQLError('boom', { extensions: { code: 'INTERNAL' } }),
        new GraphQLError('sign in', { extensions: { code: 'UNAUTHENTICATED' } }),
      ],
    });
    expect(isUnauthenticated(error)).toBe(true);
  });

  it('ignores other codes, network errors and no error', () => {
    expect(
      isUnauthenticated(
        new CombinedError({
          graphQLErrors: [new GraphQLError('no', { extensions: { code: 'FORBIDDEN' } })],
        }),
      ),
    ).toBe(false);
    expect(isUnauthenticated(new CombinedError({ networkError: new Error('offline') }))).toBe(
      false,
    );
    expect(isUnauthenticated(undefined)).toBe(false);
  });
});

describe('isForbiddenClose', () => {
  it('is true only for close code 4403', () => {
    expect(isForbiddenClose({ code: 4403, reason: 'Forbidden' })).toBe(true);
    expect(isForbiddenClose({ code: 1000, reason: '' })).toBe(false);
    expect(isForbiddenClose(new Error('4403'))).toBe(false);
    expect(isForbiddenClose(null)).toBe(false);
  });
});

describe('signedOutReason', () => {
  it('is the reason of a 4403 close, without the prefix', () => {
    expect(signedOutReason({ code: 4403, reason: 'Forbidden: the session has expired: sign in again' })).toBe(
      'the session has expired: sign in again',
    );
  });

  it('is null for other closes, no reason, and the agent signing out themselves', () => {
    expect(signedOutReason({ code: 1006, reason: 'Forbidden: the session has expired' })).toBeNull();
    expect(signedOutReason({ code: 4403, reason: '' })).toBeNull();
    expect(signedOutReason({ code: 4403 })).toBeNull();
    expect(signedOutReason({ code: 4403, reason: 'Forbidden: the session ended: you signed out' })).toBeNull();
  });
});
