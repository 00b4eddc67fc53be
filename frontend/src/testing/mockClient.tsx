import type { Client, GraphQLRequest, OperationResult } from '@urql/core';
import type { ReactNode } from 'react';
import { Provider } from 'urql';
import { vi } from 'vitest';
import { fromValue, never, type Source } from 'wonka';

type Answer = (request: GraphQLRequest) => Partial<OperationResult> | null;

/**
 * A client stub for component tests of mutations: `answer` gets each mutation and returns its
 * result (or null to leave it pending). Returns the spy to inspect the variables sent.
 */
export function mockClient(answer: Answer) {
  const executeMutation = vi.fn<(request: GraphQLRequest) => Source<Partial<OperationResult>>>(
    (request) => {
      const result = answer(request);
      return result ? fromValue(result) : never;
    },
  );
  const client = { executeMutation } as unknown as Client;
  const wrapper = ({ children }: { children: ReactNode }) => (
    <Provider value={client}>{children}</Provider>
  );
  return { client, executeMutation, wrapper };
}

/** The operation name of a request, to tell mutations apart. */
export function operationName(request: GraphQLRequest): string | undefined {
  const definition = request.query.definitions[0];
  return definition && 'name' in definition ? definition.name?.value : undefined;
}
