import { useEffect, useState } from 'react';
import { Provider } from 'urql';
import { AttachmentsProvider } from '../attachments/transport';
import { SignIn } from '../auth/SignIn';
import type { TokenStore } from '../auth/tokenStore';
import { useToken } from '../auth/useToken';
import { createAgentClient } from '../client';
import { ConnectionProvider } from '../connection/ConnectionContext';
import { ToastProvider } from '../toast/Toasts';
import { Shell } from './Shell';

/** Shows sign-in or the desk, depending on whether a session token is stored. */
export function App({ tokens }: { tokens: TokenStore }) {
  const token = useToken(tokens);
  // A new session gets a new client, so nothing cached for one agent is shown to the next.
  return <Session key={token ?? ''} tokens={tokens} signedIn={token !== null} />;
}

function Session({ tokens, signedIn }: { tokens: TokenStore; signedIn: boolean }) {
  const [agentClient] = useState(() => createAgentClient({ tokens }));
  useEffect(() => () => agentClient.dispose(), [agentClient]);

  return (
    <Provider value={agentClient.client}>
      <ConnectionProvider connection={agentClient.connection}>
        <AttachmentsProvider tokens={tokens}>
          <ToastProvider>
            {signedIn ? <Shell tokens={tokens} /> : <SignIn tokens={tokens} />}
          </ToastProvider>
        </AttachmentsProvider>
      </ConnectionProvider>
    </Provider>
  );
}
