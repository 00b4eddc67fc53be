/** Where a `/query` being typed sits in the composer's text. */
export interface SlashQuery {
  /** Index of the slash. */
  start: number;
  /** Index just after the query (the caret). */
  end: number;
  /** What was typed after the slash, as typed. */
  query: string;
}

/** Longest query the picker follows: past it the slash is taken for text. */
export const MAX_QUERY_LENGTH = 40;

/**
 * The `/query` the caret is in: a slash at the start of the text or after whitespace, then the
 * query up to the caret (spaces allowed, as titles have them; no line break). Null when the caret
 * is not in one, e.g. in "and/or" or a URL.
 */
export function slashQueryAt(text: string, caret: number): SlashQuery | null {
  const before = text.slice(0, caret);
  const start = before.lastIndexOf('/');
  if (start < 0) return null;
  if (start > 0 && !/\s/.test(before[start - 1]!)) return null;
  const query = before.slice(start + 1);
  if (query.includes('\n') || query.length > MAX_QUERY_LENGTH || query.startsWith(' ')) return null;
  return { start, end: caret, query };
}

/** The text with the `/query` replaced by a canned response, and where the caret goes. */
export function insertResponse(
  text: string,
  slash: Pick<SlashQuery, 'start' | 'end'>,
  response: string,
): { text: string; caret: number } {
  const head = text.slice(0, slash.start);
  const tail = text.slice(slash.end);
  return { text: head + response + tail, caret: head.length + response.length };
}
