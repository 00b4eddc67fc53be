import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { TokenStore } from './tokenStore';

const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);

/** Revokes the session on the server, then forgets the token whatever the server answered. */
export function SignOutButton({ tokens }: { tokens: TokenStore }) {
  const [{ fetching }, logout] = useMutation(LogoutMutation);

  async function signOut() {
    await logout({});
    tokens.clear();
  }

  return (
    <button type="button" className="button" onClick={signOut} disabled={fetching}>
      Sign out
    </button>
  );
}
