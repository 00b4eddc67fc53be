import type { InteractionState, TransferOutcome, TransferRejection } from '../gql/graphql';

/** Who has an interaction that left this agent: another agent, or a plan's queue. */
export type HandedOver = { kind: 'agent' | 'queue'; name: string };

/**
 * Whether a live interaction is no longer this agent's, and with whom it is: held by another
 * agent (an accepted transfer, T5), or waiting in a queue (a transfer to a plan, or a parked
 * chat whose reply went to the post-parking plan). Null while it is still this agent's, or once
 * it is over.
 */
export function handedOverTo(
  interaction: {
    state: InteractionState;
    agent?: { id: string; name: string } | null;
    plan?: { name: string } | null;
  },
  meId: string,
): HandedOver | null {
  if (interaction.state === 'QUEUED' || (interaction.state === 'OFFERED' && interaction.agent?.id !== meId))
    return { kind: 'queue', name: interaction.plan?.name ?? 'its' };
  if (interaction.state === 'COMPLETED' || !interaction.agent || interaction.agent.id === meId) return null;
  return { kind: 'agent', name: interaction.agent.name };
}

/** The line under the transcript, and the composer's reason, once it is handed over. */
export function handedOverNotice(handedOver: HandedOver): string {
  return handedOver.kind === 'agent' ? `Transferred to ${handedOver.name}` : `Moved to the ${handedOver.name} queue`;
}

/** The toast for a transfer's outcome (T5, T6). */
export function transferResultMessage(
  outcome: TransferOutcome,
  contact: string,
  targetName: string | null | undefined,
  planName: string | null | undefined,
  reason?: TransferRejection | null,
): string {
  if (outcome === 'ACCEPTED') {
    return targetName
      ? `${targetName} accepted the transfer of ${contact}.`
      : `${contact} was transferred to the ${planName ?? 'chosen'} queue.`;
  }
  const who = targetName ?? 'The agent';
  switch (reason) {
    case 'EXPIRED':
      return `${who} did not answer the transfer of ${contact} in time: it stays with you.`;
    case 'INTERACTION_ENDED':
      return `The transfer of ${contact} to ${who} was withdrawn: the chat ended.`;
    default:
      return `${who} did not accept the transfer of ${contact}: it stays with you.`;
  }
}
