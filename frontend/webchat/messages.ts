// The transcript as the widget holds it: messages from myChat, the websocket and our own
// sends, merged without duplicates (by id) and kept in the order they were sent.
import type { Attachment } from '../src/attachments/core';

export type Party = 'AGENT' | 'CONTACT' | 'SYSTEM';

export interface ChatMessage {
  id: string;
  from: Party;
  text: string;
  sentAt: string;
  /** Files sent with the message (older servers and tests may leave it out). */
  attachments?: Attachment[];
}

/** Orders two RFC 3339 instants to the nanosecond (Date.parse stops at milliseconds). */
export function compareTimes(a: string, b: string) {
  const fraction = (s: string) => (/\.(\d+)/.exec(s)?.[1] ?? '').padEnd(9, '0');
  const seconds = (s: string) => Date.parse(s.replace(/\.\d+/, ''));
  return seconds(a) - seconds(b) || (fraction(a) < fraction(b) ? -1 : fraction(a) > fraction(b) ? 1 : 0);
}

/**
 * Adds `incoming` to `current`: a message whose id is already there replaces it in place, the
 * rest are added, and the result is sorted by sentAt (stable, so ties keep arrival order).
 * Returns `current` itself when nothing changed.
 */
export function mergeMessages(current: readonly ChatMessage[], incoming: readonly ChatMessage[]) {
  const byId = new Map(current.map((m) => [m.id, m]));
  let changed = false;
  for (const message of incoming) {
    const known = byId.get(message.id);
    if (
      known &&
      known.text === message.text &&
      known.sentAt === message.sentAt &&
      known.from === message.from &&
      (known.attachments?.length ?? 0) === (message.attachments?.length ?? 0)
    ) {
      continue;
    }
    byId.set(message.id, message);
    changed = true;
  }
  if (!changed) return current as ChatMessage[];
  return [...byId.values()].sort((a, b) => compareTimes(a.sentAt, b.sentAt));
}
