/** The shortest new password the server accepts (ChangePasswordInput.newPassword). */
export const MIN_PASSWORD_LENGTH = 8;

/** What is wrong with a new password, as it is typed; null when nothing is (or nothing is typed yet). */
export function newPasswordProblem(value: string): string | null {
  if (value === '' || value.length >= MIN_PASSWORD_LENGTH) return null;
  const left = MIN_PASSWORD_LENGTH - value.length;
  return `At least ${MIN_PASSWORD_LENGTH} characters: ${left} more.`;
}

/** Whether the confirmation differs from the new password (once something is typed in it). */
export function confirmationProblem(newPassword: string, confirmation: string): string | null {
  if (confirmation === '' || confirmation === newPassword) return null;
  return 'This does not match the new password.';
}

/** The form's fields that the server's userErrors can name. */
export type PasswordField = 'currentPassword' | 'newPassword';

/**
 * The field a userError belongs to: UserError.field is a path into the input, e.g.
 * ["input", "newPassword"] or ["newPassword"]; its last part names the field. Null for an error
 * about no field (or one the form does not have), shown above the buttons.
 */
export function passwordFieldOf(path: readonly string[] | null | undefined): PasswordField | null {
  const last = path?.at(-1);
  return last === 'currentPassword' || last === 'newPassword' ? last : null;
}
