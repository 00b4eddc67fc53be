import { useEffect, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { formatClock, formatDuration } from '../clock/format';
import { useNow } from '../clock/useNow';
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
      retryAfterSeconds
    }
  }
`);

const messages: Record<string, string> = {
  INVALID_CREDENTIALS: 'Wrong username or password. Check both and try again.',
};

/** What the server said about the attempt, and until when it refuses the next one. */
type Refusal = { text: string; retryAt?: number };

export function SignIn({ tokens }: { tokens: TokenStore }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [waited, setWaited] = useState(false);
  // Why the server ended the last session (expired, disabled, new password), read once.
  const [endedBecause] = useState(() => tokens.reason());
  const [{ fetching }, login] = useMutation(LoginMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setRefusal(null);
    setWaited(false);
    const result = await login({ input: { username: username.trim(), password } });
    const payload = result.data?.login;
    if (payload?.token) {
      tokens.set(payload.token);
      return;
    }
    const userError = payload?.userErrors[0];
    const wait = payload?.retryAfterSeconds;
    if (userError?.code === 'TOO_MANY_ATTEMPTS' && wait) {
      // The server refuses every attempt until the wait is over, right password or not.
      setRefusal({
        text: `Too many failed sign-ins. For your security, signing in is paused for ${formatDuration(wait)}.`,
        retryAt: Date.now() + wait * 1000,
      });
    } else if (userError) {
      setRefusal({ text: messages[userError.code] ?? userError.message });
    } else if (result.error?.networkError) {
      setRefusal({ text: 'The server cannot be reached. Try again in a moment.' });
    } else {
      setRefusal({ text: result.error?.message ?? 'Signing in failed.' });
    }
  }

  return (
    <main className="sign-in">
      <form className="card sign-in__form" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to agentdesk</h1>
        {endedBecause && !refusal && (
          <p className="form-notice" role="status">
            You were signed out: {endedBecause}.
          </p>
        )}
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
        {refusal && (
          <p className="form-error" role="alert">
            {refusal.text}
          </p>
        )}
        {waited && <p role="status">You can try again now.</p>}
        {refusal?.retryAt ? (
          <WaitButton
            until={refusal.retryAt}
            onEnd={() => {
              setRefusal(null);
              setWaited(true);
            }}
          />
        ) : (
          <button type="submit" className="button button--primary" disabled={fetching}>
            {fetching ? 'Signing in…' : 'Sign in'}
          </button>
        )}
      </form>
    </main>
  );
}

/**
 * The sign-in button while the server refuses attempts: disabled, counting down. It ticks only
 * while shown, and is not a live region, so screen readers hear the alert once, not every second.
 */
function WaitButton({ until, onEnd }: { until: number; onEnd(): void }) {
  const now = useNow();
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  useEffect(() => {
    if (left === 0) onEnd();
  }, [left, onEnd]);
  return (
    <button type="submit" className="button button--primary" disabled>
      Try again in {formatClock(left)}
    </button>
  );
}
