import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { mockClient } from '../testing/mockClient';
import { ChangePasswordButton } from './ChangePasswordDialog';
import { newPasswordProblem, passwordFieldOf } from './password';

const answer = (userErrors: { code: string; message: string; field: string[] | null }[]) => ({
  data: {
    changePassword: {
      __typename: 'AgentPayload',
      agent: userErrors.length ? null : { __typename: 'Agent', id: 'agent-alice' },
      userErrors: userErrors.map((e) => ({ __typename: 'UserError', ...e })),
    },
  },
});

async function openDialog(respond: Parameters<typeof mockClient>[0]) {
  const { wrapper, executeMutation } = mockClient(respond);
  render(<ChangePasswordButton />, { wrapper });
  await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
  const dialog = await screen.findByRole('dialog', { name: 'Change password' });
  return { dialog, executeMutation };
}

describe('passwords', () => {
  it('need 8 characters, said as they are typed', () => {
    expect(newPasswordProblem('')).toBeNull();
    expect(newPasswordProblem('abc')).toBe('At least 8 characters: 5 more.');
    expect(newPasswordProblem('abcdefgh')).toBeNull();
  });

  it('map a userError to the field its path names', () => {
    expect(passwordFieldOf(['input', 'currentPassword'])).toBe('currentPassword');
    expect(passwordFieldOf(['newPassword'])).toBe('newPassword');
    expect(passwordFieldOf(['input'])).toBeNull();
    expect(passwordFieldOf(null)).toBeNull();
  });
});

describe('ChangePasswordDialog', () => {
  it('validates as you type and sends nothing until the form is right', async () => {
    const { dialog, executeMutation } = await openDialog(() => null);
    const current = within(dialog).getByLabelText('Current password');
    await vi.waitFor(() => expect(document.activeElement).toBe(current));
    const next = within(dialog).getByLabelText('New password');
    const confirm = within(dialog).getByLabelText('Confirm new password');

    await userEvent.type(next, 'short');
    expect(next.getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).getByText('At least 8 characters: 3 more.')).toBeTruthy();
    await userEvent.type(next, 'er!');
    expect(next.getAttribute('aria-invalid')).toBeNull();
    expect(within(dialog).queryByText(/more\.$/)).toBeNull();

    await userEvent.type(confirm, 'shorter');
    expect(confirm.getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).getByText('This does not match the new password.')).toBeTruthy();
    await userEvent.type(confirm, '!');
    expect(confirm.getAttribute('aria-invalid')).toBeNull();

    // The current password is still missing: the button says so on that field.
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change password' }));
    expect(executeMutation).not.toHaveBeenCalled();
    expect(within(dialog).getByText('Enter your current password.')).toBeTruthy();
    expect(document.activeElement).toBe(current);
  });

  it('shows a userError on the field its path names, and says other sessions were signed out once changed', async () => {
    let wrong = true;
    const { dialog, executeMutation } = await openDialog(() =>
      wrong
        ? answer([{ code: 'INVALID_CREDENTIALS', message: 'The current password is wrong.', field: ['input', 'currentPassword'] }])
        : answer([]),
    );
    const current = within(dialog).getByLabelText('Current password');
    await userEvent.type(current, 'not-it');
    await userEvent.type(within(dialog).getByLabelText('New password'), 'correct horse');
    await userEvent.type(within(dialog).getByLabelText('Confirm new password'), 'correct horse{Enter}');

    expect(executeMutation.mock.calls[0]![0].variables).toEqual({
      input: { currentPassword: 'not-it', newPassword: 'correct horse' },
    });
    await vi.waitFor(() => expect(within(dialog).getByText('The current password is wrong.')).toBeTruthy());
    expect(current.getAttribute('aria-invalid')).toBe('true');
    expect(current.getAttribute('aria-describedby')).toContain(
      within(dialog).getByText('The current password is wrong.').id,
    );
    expect(document.activeElement).toBe(current);

    // Changing the field clears the server's complaint.
    wrong = false;
    await userEvent.clear(current);
    await userEvent.type(current, 'demo-password');
    expect(within(dialog).queryByText('The current password is wrong.')).toBeNull();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Change password' }));

    const done = await screen.findByRole('dialog', { name: 'Password changed' });
    expect(within(done).getByRole('status').textContent).toMatch(/other session.*signed out/);
    await userEvent.click(within(done).getByRole('button', { name: 'Close' }));
    await vi.waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('a userError naming no field shows above the buttons', async () => {
    const { dialog } = await openDialog(() =>
      answer([{ code: 'TOO_MANY_ATTEMPTS', message: 'Too many attempts. Try again in a minute.', field: null }]),
    );
    await userEvent.type(within(dialog).getByLabelText('Current password'), 'whatever');
    await userEvent.type(within(dialog).getByLabelText('New password'), 'long enough');
    await userEvent.type(within(dialog).getByLabelText('Confirm new password'), 'long enough{Enter}');
    expect((await within(dialog).findByRole('alert')).textContent).toBe('Too many attempts. Try again in a minute.');
  });
});
