import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { TokenStore } from './tokenStore';

const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      token
      agent {
        id
        name
      }
      userErrors {
        code
        message
      }
    }
  }
`);

const messages: Record<string, string> = {
  INVALID_CREDENTIALS: 'Wrong username or password. Check both and try again.',
};

export function SignIn({ tokens }: { tokens: TokenStore }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, login] = useMutation(LoginMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    const result = await login({ input: { username: username.trim(), password } });
    const payload = result.data?.login;
    if (payload?.token) {
      tokens.set(payload.token);
      return;
    }
    const userError = payload?.userErrors[0];
    if (userError) {
      setError(messages[userError.code] ?? userError.message);
    } else if (result.error?.networkError) {
      setError('The server cannot be reached. Try again in a moment.');
    } else {
      setError(result.error?.message ?? 'Signing in failed.');
    }
  }

  return (
    <main className="sign-in">
      <form className="card sign-in__form" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to agentdesk</h1>
        <label htmlFor="sign-in-username">Username</label>
        <input
          id="sign-in-username"
          name="username"
          autoComplete="username"
          autoFocus
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <label htmlFor="sign-in-password">Password</label>
        <input
          id="sign-in-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button--primary" disabled={fetching}>
          {fetching ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
