import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignInForm } from './SignInForm';

afterEach(() => {
  vi.useRealTimers();
});

function answer(login: unknown) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => Response.json({ data: { login } })),
  );
}

async function signIn() {
  fireEvent.change(screen.getByPlaceholderText('Username'), { target: { value: 'alice' } });
  fireEvent.change(screen.getByPlaceholderText('Password'), { target: { value: 'demo' } });
  fireEvent.submit(screen.getByRole('form', { name: 'Sign in' }));
  // fetch, text and JSON resolve in microtasks; flush them.
  for (let i = 0; i < 5; i++) await act(async () => {});
}

describe('playground SignInForm', () => {
  it("shows the throttle's message and holds the button for the wait", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    answer({
      token: null,
      agent: null,
      userErrors: [{ code: 'TOO_MANY_ATTEMPTS', message: 'Too many failed sign-ins: try again in 8 seconds.' }],
      retryAfterSeconds: 8,
    });
    render(<SignInForm url="/query" onToken={vi.fn()} />);

    await signIn();

    expect(screen.getByRole('status').textContent).toBe(
      'Sign-in failed: Too many failed sign-ins: try again in 8 seconds.',
    );
    const button = screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await act(async () => {
      vi.advanceTimersByTime(8000);
    });
    expect(button.disabled).toBe(false);
  });

  it('hands the token over on success', async () => {
    answer({ token: 'tok', agent: { name: 'Alice Martin' }, userErrors: [], retryAfterSeconds: null });
    const onToken = vi.fn();
    render(<SignInForm url="/query" onToken={onToken} />);

    await signIn();

    expect(onToken).toHaveBeenCalledWith('tok', 'Alice Martin');
    expect(screen.getByRole('status').textContent).toBe('Signed in as Alice Martin');
  });
});
