import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { answered } from './answered';
import { when } from './Fields';
import { failureMessage } from './userErrors';

export const AUDIT_PAGE = 25;

const AdminAuditLogQuery = graphql(`
  query AdminAuditLog($objectType: String, $first: Int, $after: String) {
    auditLog(objectType: $objectType, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          at
          actor {
            id
            name
            username
          }
          action
          objectType
          objectId
          objectName
          before
          after
        }
      }
    }
  }
`);

export const OBJECT_TYPES: { value: string; label: string }[] = [
  { value: '', label: 'Everything' },
  { value: 'AGENT', label: 'Agents' },
  { value: 'PLAN', label: 'Plans' },
  { value: 'API_KEY', label: 'API keys' },
  { value: 'CANNED_RESPONSE', label: 'Canned responses' },
  { value: 'IDENTITY', label: 'Identities' },
  { value: 'WEBHOOK', label: 'Webhooks' },
];

const typeNames: Record<string, string> = {
  AGENT: 'Agent',
  PLAN: 'Plan',
  API_KEY: 'API key',
  CANNED_RESPONSE: 'Canned response',
  IDENTITY: 'Identity',
  WEBHOOK: 'Webhook',
};

export interface Change {
  field: string;
  before: string | null;
  after: string | null;
}

function parse(json: string | null | undefined): Record<string, unknown> | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { value: json };
  }
}

/** A value as people read it: text as it is, lists joined, objects as compact JSON. */
export function show(value: unknown): string {
  if (value === undefined) return '—';
  if (value === null) return 'none';
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : show(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The changed fields of an entry, before and after (null where the side is absent: create, delete). */
export function changes(before: string | null | undefined, after: string | null | undefined): Change[] {
  const b = parse(before);
  const a = parse(after);
  const fields = [...new Set([...Object.keys(b ?? {}), ...Object.keys(a ?? {})])];
  return fields.map((field) => ({
    field,
    before: b ? show(b[field]) : null,
    after: a ? show(a[field]) : null,
  }));
}

/** The audit log, newest first: filter by object type, load more; who, when, what, before and after. */
export function AuditSection() {
  const [objectType, setObjectType] = useState('');
  // Pages after the first, by their cursor; each is its own query (kept by graphcache).
  const [cursors, setCursors] = useState<string[]>([]);

  return (
    <section className="admin-section" aria-labelledby="admin-audit-title">
      <header className="admin-section__header">
        <h2 id="admin-audit-title">Audit log</h2>
      </header>
      <div className="field admin-filter">
        <label htmlFor="admin-audit-type">Show changes to</label>
        <select
          id="admin-audit-type"
          value={objectType}
          onChange={(e) => {
            setObjectType(e.target.value);
            setCursors([]);
          }}
        >
          {OBJECT_TYPES.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
      </div>
      <ol className="audit-list" aria-label="Changes, newest first">
        <AuditPage objectType={objectType} after={null} last={cursors.length === 0} onMore={(c) => setCursors([c])} />
        {cursors.map((cursor, i) => (
          <AuditPage
            key={cursor}
            objectType={objectType}
            after={cursor}
            last={i === cursors.length - 1}
            onMore={(c) => setCursors((all) => [...all.slice(0, i + 1), c])}
          />
        ))}
      </ol>
    </section>
  );
}

function AuditPage({
  objectType,
  after,
  last,
  onMore,
}: {
  objectType: string;
  after: string | null;
  last: boolean;
  onMore: (cursor: string) => void;
}) {
  const variables = { objectType: objectType || null, first: AUDIT_PAGE, after };
  const [result, reexecute] = useQuery({
    query: AdminAuditLogQuery,
    variables,
    // The first page shows what happened since it was last opened.
    requestPolicy: after ? 'cache-first' : 'cache-and-network',
  });
  const { fetching, error } = result;
  // While the page of a new filter loads, the old filter's must not show as its own, nor lend
  // its cursor to "Load more" (answered).
  const page = answered(result, variables)?.auditLog;
  return (
    <>
      {page?.edges.map(({ node }) => (
        <li key={node.id} className="audit-entry">
          <article aria-label={`${node.action} ${node.objectName}`}>
            <header className="audit-entry__header">
              <span className="audit-entry__what">
                <strong>{node.action}</strong> · {typeNames[node.objectType] ?? node.objectType} <strong>{node.objectName}</strong>
              </span>
              <span className="audit-entry__who muted">
                by {node.actor ? `${node.actor.name} (${node.actor.username})` : 'the command line'} ·{' '}
                <time dateTime={node.at}>{when(node.at)}</time>
              </span>
            </header>
            <ChangeTable before={node.before} after={node.after} />
          </article>
        </li>
      ))}
      {!after && page && page.edges.length === 0 && (
        <li className="muted">No changes {objectType ? 'of this kind ' : ''}yet.</li>
      )}
      {fetching && !page && <li className="muted">Loading…</li>}
      {error && !page && (
        <li>
          <p className="form-error" role="alert">
            {failureMessage(error, 'Loading the audit log')}
          </p>
          <button type="button" className="button button--small" onClick={() => reexecute({ requestPolicy: 'network-only' })}>
            Try again
          </button>
        </li>
      )}
      {last && page?.pageInfo.hasNextPage && page.pageInfo.endCursor && (
        <li className="audit-list__more">
          <button type="button" className="button" onClick={() => onMore(page.pageInfo.endCursor!)}>
            Load more
          </button>
        </li>
      )}
    </>
  );
}

function ChangeTable({ before, after }: { before: string | null | undefined; after: string | null | undefined }) {
  const rows = changes(before, after);
  if (rows.length === 0) return null;
  return (
    <table className="audit-changes">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.field}>
            <th scope="row">{r.field}</th>
            <td>{r.before ?? <span className="muted">(new)</span>}</td>
            <td>{r.after ?? <span className="muted">(deleted)</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
