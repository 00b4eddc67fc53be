/**
 * The data of a query's answer, if it answers these variables. When a query's variables
 * change (a new filter, a search, another page), urql keeps the last answer until the new one
 * comes, and that answer is the old variables': shown as the new ones', its rows mislead and its
 * cursor pages the new query from the wrong place (the audit log once repeated entries so).
 */
export function answered<T>(result: { data?: T; operation?: { variables?: unknown } }, variables: Record<string, unknown>): T | undefined {
  const asked = result.operation?.variables as Record<string, unknown> | undefined;
  if (!asked) return undefined;
  for (const [name, value] of Object.entries(variables)) {
    if ((asked[name] ?? null) !== (value ?? null)) return undefined;
  }
  return result.data;
}
