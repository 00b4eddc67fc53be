import { useEffect } from 'react';
import { useQuery } from 'urql';
import { SignOutButton } from '../auth/SignOutButton';
import type { TokenStore } from '../auth/tokenStore';
import { graphql } from '../gql';
import { PresenceSwitch } from '../presence/PresenceSwitch';

const ShellQuery = graphql(`
  query Shell {
    me {
      id
      name
      role
      ...PresenceSwitch_agent
    }
  }
`);

/** The signed-in desk: a header with the agent and their presence, and the work area. */
export function Shell({ tokens }: { tokens: TokenStore }) {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: ShellQuery });
  const me = data?.me;

  // A session the server no longer knows without saying UNAUTHENTICATED still means signed out.
  useEffect(() => {
    if (data && data.me === null) tokens.clear();
  }, [data, tokens]);

  return (
    <div className="shell">
      <header className="shell__header">
        <span className="brand">agentdesk</span>
        {me && (
          <>
            <span className="shell__agent">
              <span className="shell__name">{me.name}</span>
              {me.role === 'SUPERVISOR' && <span className="badge">Supervisor</span>}
            </span>
            <PresenceSwitch agent={me} />
          </>
        )}
        <span className="shell__spacer" />
        <SignOutButton tokens={tokens} />
      </header>
      <main className="shell__main">
        {fetching && !me && <p className="muted">Loading…</p>}
        {error && !me && (
          <div className="card notice" role="alert">
            <p>Your desk could not be loaded.</p>
            <button
              type="button"
              className="button"
              onClick={() => reexecute({ requestPolicy: 'network-only' })}
            >
              Try again
            </button>
          </div>
        )}
        {me && (
          <section className="empty" aria-labelledby="conversations-title">
            <h2 id="conversations-title">Conversations</h2>
            <p>No conversations yet.</p>
            <p className="muted">
              {me.presence === 'READY'
                ? 'You are Ready: new offers will appear here.'
                : 'Set yourself Ready to receive offers.'}
            </p>
          </section>
        )}
      </main>
    </div>
  );
}
