import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Provider } from 'urql';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBackend, type FakeBackend } from '../testing/fakeBackend';
import { AUDIT_PAGE, AuditSection } from './AuditSection';

let backend: FakeBackend | undefined;
afterEach(() => {
  backend?.dispose();
  backend = undefined;
});

/** A page of the audit log: `n` entries named `${name} i`, and a cursor after them. */
function auditPage(name: string, objectType: string, n: number, endCursor: string | null) {
  return {
    auditLog: {
      __typename: 'AuditEntryConnection',
      pageInfo: { __typename: 'PageInfo', hasNextPage: endCursor !== null, endCursor },
      edges: Array.from({ length: n }, (_, i) => ({
        __typename: 'AuditEntryEdge',
        cursor: `${name}-${i}`,
        node: {
          __typename: 'AuditEntry',
          id: `${name}-${i}`,
          at: '2026-12-01T10:00:00Z',
          actor: null,
          action: 'CREATE',
          objectType,
          objectId: `${name}-object-${i}`,
          objectName: `${name} ${i}`,
          before: null,
          after: '{"title":"x"}',
        },
      })),
    },
  };
}

describe('AuditSection', () => {
  // CI once counted 30 entries where 29 were due: after a change of filter, urql showed the
  // old filter's page until the new one came, and "Load more" on it asked for the new
  // filter's entries after the old page's last one, repeating some.
  it("shows neither the old filter's page nor its Load more while the new filter's page loads", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    backend = fakeBackend({
      AdminAuditLog: async (v) => {
        if (v.objectType === null) return auditPage('everything', 'AGENT', AUDIT_PAGE, 'after-everything');
        if (v.after === null) {
          await held;
          return auditPage('canned', 'CANNED_RESPONSE', AUDIT_PAGE, 'after-canned');
        }
        return auditPage('older canned', 'CANNED_RESPONSE', 4, null);
      },
    });
    render(
      <Provider value={backend.client}>
        <AuditSection />
      </Provider>,
    );
    const user = userEvent.setup();
    const log = screen.getByRole('list', { name: 'Changes, newest first' });
    await within(log).findByRole('article', { name: 'CREATE everything 24' });
    expect(within(log).getAllByRole('article')).toHaveLength(AUDIT_PAGE);

    await user.selectOptions(screen.getByRole('combobox', { name: 'Show changes to' }), 'Canned responses');
    expect(within(log).queryAllByRole('article')).toHaveLength(0);
    expect(within(log).queryByRole('button', { name: 'Load more' })).toBeNull();
    within(log).getByText('Loading…');

    release();
    await within(log).findByRole('article', { name: 'CREATE canned 24' });
    await user.click(within(log).getByRole('button', { name: 'Load more' }));
    await within(log).findByRole('article', { name: 'CREATE older canned 3' });
    expect(within(log).getAllByRole('article')).toHaveLength(AUDIT_PAGE + 4);
    const pages = backend.calls.filter((c) => c.operationName === 'AdminAuditLog' && c.variables.after !== null);
    expect(pages.map((c) => c.variables)).toEqual([{ objectType: 'CANNED_RESPONSE', first: AUDIT_PAGE, after: 'after-canned' }]);
  });
});
