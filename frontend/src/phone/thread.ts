import type { PhoneIdentity, PhoneMessage, PhoneState } from './api';

/** The messages between one phone and one desk number, oldest first. */
export function threadOf(state: PhoneState, phone: string, identityId: string): PhoneMessage[] {
  return state.messages
    .filter((m) => m.phone === phone && m.identityId === identityId)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface ThreadSummary {
  identity: PhoneIdentity;
  last: PhoneMessage | null;
  /** Messages from the desk this phone has not shown yet. */
  unread: number;
}

/**
 * One entry per desk number, as a phone's list of conversations shows them. A desk message is
 * unread until the page has shown it (`seen`) or the simulator reports it read: an SMS handset
 * sends no read receipts, so only the page knows it has shown an SMS.
 */
export function threadSummaries(state: PhoneState, phone: string, seen: ReadonlySet<string> = new Set()): ThreadSummary[] {
  return state.identities.map((identity) => {
    const thread = threadOf(state, phone, identity.id);
    return {
      identity,
      last: thread.at(-1) ?? null,
      unread: thread.filter((m) => m.direction === 'out' && m.status !== 'read' && m.status !== 'failed' && !seen.has(m.id))
        .length,
    };
  });
}

/** What the phone shows under a message. */
export function statusLabel(message: PhoneMessage): string {
  if (message.direction === 'in') {
    switch (message.status) {
      case 'failed':
        return 'Not delivered';
      case 'sent':
        return 'Sent';
      default:
        return 'Delivered';
    }
  }
  return message.status === 'read' ? 'Read' : message.status === 'failed' ? 'Failed' : 'New';
}

export const channelName: Record<PhoneIdentity['channel'], string> = { SMS: 'SMS', WHATSAPP: 'WhatsApp' };
