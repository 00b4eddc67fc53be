import { Kind, parse, type OperationTypeNode } from 'graphql';

export type OperationType = `${OperationTypeNode}`;

export type Operation =
  | { ok: true; type: OperationType; name: string | undefined; names: string[] }
  | { ok: false; error: string; names: string[] };

/**
 * Finds which operation of a document would run and whether it is a query, mutation or
 * subscription, which decides the transport: HTTP POST or the websocket.
 * `operationName` picks one of several operations, as the GraphQL request field does.
 */
export function detectOperation(source: string, operationName?: string): Operation {
  let operations;
  try {
    operations = parse(source).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  } catch (e) {
    return { ok: false, error: (e as Error).message, names: [] };
  }
  const names = operations.flatMap((op) => (op.name ? [op.name.value] : []));

  if (operations.length === 0) {
    return { ok: false, error: 'The document has no operation to run.', names };
  }
  const chosen = operationName
    ? operations.find((op) => op.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!chosen) {
    return {
      ok: false,
      error: operationName
        ? `The document has no operation named "${operationName}".`
        : 'The document has several operations: choose which one to run.',
      names,
    };
  }
  return { ok: true, type: chosen.operation, name: chosen.name?.value, names };
}
