import type { DeliveryErrorKind, DeliveryStatus } from '../gql/graphql';

/** How a delivery status shows beside the agent's message: a mark, and the words it stands for. */
export interface DeliveryMarkInfo {
  /** What is drawn (hidden from assistive technology, which reads `label`). */
  glyph: string;
  label: string;
}

export const deliveryMarks: Record<DeliveryStatus, DeliveryMarkInfo> = {
  PENDING: { glyph: '🕓', label: 'Sending' },
  SENT: { glyph: '✓', label: 'Sent' },
  DELIVERED: { glyph: '✓✓', label: 'Delivered' },
  READ: { glyph: '✓✓', label: 'Read' },
  FAILED: { glyph: '⚠', label: 'Not delivered' },
};

/** What the agent can do about a failed message (E5): send it again, or change it first. */
export type Recovery = 'retry' | 'edit';

/**
 * E5's classes: a temporary failure (network, timeout, the provider briefly down) is retried
 * unchanged; a content error (a bad number, a refused text) or a security block needs the
 * message changed, so the agent edits it in the reply box.
 */
export function recoveryFor(kind: DeliveryErrorKind): Recovery {
  return kind === 'TEMPORARY' ? 'retry' : 'edit';
}

const kindHint: Record<DeliveryErrorKind, string> = {
  TEMPORARY: 'A temporary problem: send it again.',
  CONTENT: 'Change the message and send it again.',
  SECURITY: 'Blocked by a security check: change the message and send it again.',
};

/** The sentence under a failed message: the provider's reason, its code, and what to do. */
export function failureText(error: { kind: DeliveryErrorKind; message: string; providerCode?: string | null }): string {
  const reason = error.message.trim().replace(/\.$/, '');
  const code = error.providerCode ? ` (code ${error.providerCode})` : '';
  return `Not delivered: ${reason}${code}. ${kindHint[error.kind]}`;
}
