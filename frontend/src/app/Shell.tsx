import { useEffect } from 'react';
import { useQuery } from 'urql';
import { ChangePasswordButton } from '../account/ChangePasswordDialog';
import { SignatureButton } from '../email/SignatureButton';
import { Admin } from '../admin/Admin';
import { SignOutButton } from '../auth/SignOutButton';
import type { TokenStore } from '../auth/tokenStore';
import { useResync } from '../connection/ConnectionContext';
import { graphql } from '../gql';
import { AlertsToggle } from '../offers/alerts';
import { Capacity } from '../presence/Capacity';
import { PresenceSwitch } from '../presence/PresenceSwitch';
import { LiveView } from '../supervisor/LiveView';
import { Desk } from './Desk';
import { useRoute } from './route';
import './nav.css';

const ShellQuery = graphql(`
  query Shell {
    me {
      id
      name
      role
      capacity {
        channel
        max
        used
      }
      ...PresenceSwitch_agent
    }
  }
`);

/**
 * The signed-in desk: a header with the agent, their presence and capacity in use, and the work
 * area. Capacity is refetched when graphcache drops it (cache.ts) and after reconnections.
 */
export function Shell({ tokens }: { tokens: TokenStore }) {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: ShellQuery });
  const me = data?.me;
  const route = useRoute();
  const supervisor = me?.role === 'SUPERVISOR';
  // The live view (#/live) and the admin area (#/admin/…) are the supervisors'; anyone else, or
  // any other route, sees the desk.
  const screen = supervisor && (route === 'live' || route === 'admin') ? route : 'desk';
  useResync((afterDrop) => {
    if (afterDrop) reexecute({ requestPolicy: 'network-only' });
  });

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
            <Capacity capacity={me.capacity} />
            {supervisor && (
              <nav className="shell__nav" aria-label="Screens">
                <a href="#/" aria-current={screen === 'desk' ? 'page' : undefined}>
                  Desk
                </a>
                <a href="#/live" aria-current={screen === 'live' ? 'page' : undefined}>
                  Live view
                </a>
                <a href="#/admin/agents" aria-current={screen === 'admin' ? 'page' : undefined}>
                  Admin
                </a>
              </nav>
            )}
          </>
        )}
        <span className="shell__spacer" />
        {me && <AlertsToggle />}
        {me && <SignatureButton />}
        {me && <ChangePasswordButton />}
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
        {/* The desk stays mounted behind the other screens: its offers and subscriptions go on. */}
        {me && (
          <div className="shell__screen" hidden={screen !== 'desk'}>
            <Desk ready={me.presence === 'READY'} meId={me.id} />
          </div>
        )}
        {me && screen === 'live' && <LiveView />}
        {me && screen === 'admin' && <Admin />}
      </main>
    </div>
  );
}
