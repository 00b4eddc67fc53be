/**
 * Phone numbers as the server takes them: E.164, "+" then the country code and up to 15 digits
 * in all (ITU-T E.164). Spaces, dots, dashes and brackets people type are ignored, and a
 * leading 00 counts as "+", exactly as the server normalises them (workspace.NormalisePhone).
 */
const E164 = /^\+[1-9][0-9]{6,14}$/;

/** The number in E.164 form, or null when it is not one. */
export function normalisePhone(input: string): string | null {
  let n = input.trim().replace(/[\s.\-()\u00a0]/g, '');
  if (n.startsWith('00')) n = `+${n.slice(2)}`;
  return E164.test(n) ? n : null;
}

/** What to do about a number before anything can be sent to it; null when it is valid. */
export function phoneProblem(input: string, whenEmpty = "Enter the recipient's number."): string | null {
  if (input.trim() === '') return whenEmpty;
  if (normalisePhone(input) !== null) return null;
  const digits = input.replace(/\D/g, '');
  if (!input.trim().startsWith('+') && !input.trim().startsWith('00'))
    return 'Enter the number in international form, starting with + and the country code, e.g. +44 7700 900123.';
  if (digits.length < 7) return 'The number is too short: enter it with its country code, e.g. +44 7700 900123.';
  if (digits.length > 15) return 'The number is too long: an international number has at most 15 digits.';
  return 'Enter the number in international form: + and digits only, e.g. +44 7700 900123.';
}
