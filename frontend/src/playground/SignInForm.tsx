import { print } from 'graphql';
import { useEffect, useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { PlaygroundLoginMutation } from '../gql/graphql';
import { postOperation } from './transport';

const LoginMutation = graphql(`
  mutation PlaygroundLogin($input: LoginInput!) {
    login(input: $input) {
      token
      agent {
        name
      }
      userErrors {
        code
        message
      }
      retryAfterSeconds
    }
  }
`);

/** Signs in with the `login` mutation and hands the token to the headers editor. */
export function SignInForm({
  url,
  onToken,
}: {
  url: string;
  onToken(token: string, name: string): void;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // After TOO_MANY_ATTEMPTS the server refuses every attempt for a while; so does the button.
  const [waitSeconds, setWaitSeconds] = useState(0);
  useEffect(() => {
    if (waitSeconds <= 0) return;
    const timer = setTimeout(() => setWaitSeconds(0), waitSeconds * 1000);
    return () => clearTimeout(timer);
  }, [waitSeconds]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const result = await postOperation(
        url,
        { query: print(LoginMutation), variables: { input: { username, password } } },
        {},
      );
      const body = result.body as { data?: PlaygroundLoginMutation; errors?: { message: string }[] };
      const login = body.data?.login;
      if (login?.token) {
        onToken(login.token, login.agent?.name ?? username);
        setPassword('');
        setMessage({ error: false, text: `Signed in as ${login.agent?.name ?? username}` });
      } else {
        const text =
          login?.userErrors[0]?.message ?? body.errors?.[0]?.message ?? `HTTP ${result.status}`;
        setMessage({ error: true, text: `Sign-in failed: ${text}` });
        setWaitSeconds(login?.retryAfterSeconds ?? 0);
      }
    } catch (e) {
      setMessage({ error: true, text: `Sign-in failed: ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="pg-signin" onSubmit={submit} aria-label="Sign in">
      <label htmlFor="pg-username" className="visually-hidden">
        Username
      </label>
      <input
        id="pg-username"
        placeholder="Username"
        autoComplete="username"
        required
        value={username}
        onChange={(e) => setUsername(e.target.value)}
      />
      <label htmlFor="pg-password" className="visually-hidden">
        Password
      </label>
      <input
        id="pg-password"
        type="password"
        placeholder="Password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button type="submit" className="button" disabled={busy || waitSeconds > 0}>
        Sign in
      </button>
      <span role="status" className={message?.error ? 'pg-signin__error' : 'pg-signin__ok'}>
        {message?.text}
      </span>
    </form>
  );
}
