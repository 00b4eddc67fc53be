/** A template body's placeholder, {{1}}, {{2}}, … (spaces inside the braces allowed, as the server allows). */
const PLACEHOLDER = /\{\{\s*([0-9]+)\s*\}\}/g;

export interface TemplateLike {
  id: string;
  name: string;
  body: string;
  parameterCount: number;
}

/** A piece of a preview: plain text, or a placeholder with the value filled in, if any. */
export type PreviewPart =
  | { kind: 'text'; text: string }
  | { kind: 'parameter'; index: number; value: string | null };

/**
 * The body cut into text and placeholders, each placeholder with its parameter (index from 1)
 * filled in when it shows something, else null. Parameters are trimmed, as the server trims
 * them before sending.
 */
export function previewParts(body: string, parameters: readonly string[]): PreviewPart[] {
  const parts: PreviewPart[] = [];
  let at = 0;
  for (const match of body.matchAll(PLACEHOLDER)) {
    if (match.index > at) parts.push({ kind: 'text', text: body.slice(at, match.index) });
    const index = Number(match[1]);
    const value = cleanParameter(parameters[index - 1] ?? '');
    parts.push({ kind: 'parameter', index, value: value === '' ? null : value });
    at = match.index + match[0].length;
  }
  if (at < body.length) parts.push({ kind: 'text', text: body.slice(at) });
  return parts;
}

/** The body with every filled-in placeholder replaced; empty ones stay {{n}}. */
export function fillTemplate(body: string, parameters: readonly string[]): string {
  return previewParts(body, parameters)
    .map((part) => (part.kind === 'text' ? part.text : (part.value ?? `{{${part.index}}}`)))
    .join('');
}

/** A parameter as it will be sent: on one line (the server refuses tabs and line breaks), trimmed as the server trims it. */
export function cleanParameter(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ').trim();
}

/** Why the template cannot be sent yet, or null when it can. */
export function templateProblem(template: TemplateLike | null | undefined, parameters: readonly string[]): string | null {
  if (!template) return 'Choose a template.';
  for (let i = 0; i < template.parameterCount; i++) {
    if (cleanParameter(parameters[i] ?? '') === '') return `Fill in parameter ${i + 1} of the template.`;
  }
  return null;
}

/** Exactly parameterCount parameters, cleaned, for the server. */
export function parametersFor(template: TemplateLike, parameters: readonly string[]): string[] {
  return Array.from({ length: template.parameterCount }, (_, i) => cleanParameter(parameters[i] ?? ''));
}
