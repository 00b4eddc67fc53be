import { CombinedError } from '@urql/core';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isForbiddenClose, isUnauthenticated } from './authFailure';

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
