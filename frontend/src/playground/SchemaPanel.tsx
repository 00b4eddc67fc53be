import { print } from 'graphql';
import { useEffect, useRef, useState } from 'react';
import { graphql } from '../gql';
import type { PlaygroundSchemaQuery, TypeRefFragment } from '../gql/graphql';
import { postOperation } from './transport';

const SchemaQuery = graphql(`
  query PlaygroundSchema {
    __schema {
      queryType {
        ...RootType
      }
      mutationType {
        ...RootType
      }
      subscriptionType {
        ...RootType
      }
    }
  }

  fragment RootType on __Type {
    name
    fields {
      name
      description
      args {
        name
        type {
          ...TypeRef
        }
      }
      type {
        ...TypeRef
      }
    }
  }

  fragment TypeRef on __Type {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
        }
      }
    }
  }
`);

type Ref = Pick<TypeRefFragment, 'kind' | 'name'> & { ofType?: Ref | null };

/** Prints a type reference the way SDL does: `[Channel!]!`. */
export function printTypeRef(ref: Ref): string {
  if (ref.kind === 'NON_NULL' && ref.ofType) return `${printTypeRef(ref.ofType)}!`;
  if (ref.kind === 'LIST' && ref.ofType) return `[${printTypeRef(ref.ofType)}]`;
  return ref.name ?? '?';
}

type Schema = PlaygroundSchemaQuery['__schema'];

/** Lists the root fields from an introspection query, so one can write queries without docs. */
export function SchemaPanel({ url, headers }: { url: string; headers: Record<string, string> }) {
  const [schema, setSchema] = useState<Schema | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Introspection runs on open and on Reload (e.g. after signing in), not on every header edit.
  const [generation, setGeneration] = useState(0);
  const headersRef = useRef(headers);
  useEffect(() => {
    headersRef.current = headers;
  });

  useEffect(() => {
    let cancelled = false;
    postOperation(url, { query: print(SchemaQuery) }, headersRef.current).then(
      (result) => {
        if (cancelled) return;
        const body = result.body as {
          data?: PlaygroundSchemaQuery;
          errors?: { message: string }[];
        };
        setSchema(body.data?.__schema ?? null);
        setError(body.data ? null : (body.errors?.[0]?.message ?? `HTTP ${result.status}`));
      },
      (e: unknown) => {
        if (!cancelled) setError((e as Error).message);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [url, generation]);

  const roots = schema
    ? [
        { title: 'Query', type: schema.queryType },
        { title: 'Mutation', type: schema.mutationType },
        { title: 'Subscription', type: schema.subscriptionType },
      ]
    : [];

  return (
    <aside className="pg-schema" aria-labelledby="pg-schema-title">
      <div className="pg-pane__head">
        <h2 id="pg-schema-title">Schema</h2>
        <button type="button" className="button button--small" onClick={() => setGeneration((g) => g + 1)}>
          Reload
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          Introspection failed: {error}
        </p>
      )}
      {!schema && !error && <p className="muted">Loading…</p>}
      {roots.map(
        ({ title, type }) =>
          type && (
            <section key={title} className="pg-schema__root">
              <h3>{title}</h3>
              <ul>
                {(type.fields ?? []).map((field) => (
                  <li key={field.name} title={field.description ?? undefined}>
                    <code>
                      <span className="pg-schema__field">{field.name}</span>
                      {field.args.length > 0 && (
                        <span className="pg-schema__args">
                          (
                          {field.args
                            .map((arg) => `${arg.name}: ${printTypeRef(arg.type)}`)
                            .join(', ')}
                          )
                        </span>
                      )}
                      : <span className="pg-schema__type">{printTypeRef(field.type)}</span>
                    </code>
                    {field.description && (
                      <span className="pg-schema__desc">{field.description}</span>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          ),
      )}
    </aside>
  );
}
