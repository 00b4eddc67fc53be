import type { Channel, InteractionState } from '../gql/graphql';
import { conversationNoun } from '../interaction/EndControl';

export type UnparkOutcome = 'back' | 'queued' | 'ended';

/**
 * What a contact's reply did to a parked interaction (K4, K6), from the interaction as the
 * unpark notification carries it: ACTIVE again with this agent, ended because its plan has no
 * post-parking plan (WRAP), or gone to the post-parking plan's queue, where routing may already
 * have offered it to someone else (so any other state or holder counts as the queue).
 */
export function unparkOutcome(
  interaction: { state: InteractionState; agent?: { id: string } | null },
  meId: string | null,
): UnparkOutcome {
  if (interaction.state === 'WRAP') return 'ended';
  const mine = !interaction.agent || meId === null || interaction.agent.id === meId;
  if (interaction.state === 'ACTIVE' && mine) return 'back';
  return 'queued';
}

/** The toast that tells the agent about it. */
export function unparkMessage(
  outcome: UnparkOutcome,
  contact: string,
  channel: Channel,
  planName: string | null | undefined,
): string {
  switch (outcome) {
    case 'back':
      return `${contact} replied — back in Active`;
    case 'queued':
      return planName ? `${contact} replied — moved to the ${planName} queue` : `${contact} replied — moved to a queue`;
    case 'ended':
      return `${contact} replied — ${conversationNoun(channel)} ended: no post-parking plan`;
  }
}

/**
 * Whether a WRAP interaction was ended by its parked timeout (K5): ended by the system once the
 * plan's parked time had passed since it was parked. A reply that ends it at once (K6) is
 * earlier, and has its own notification.
 */
export function endedByParkedTimeout(interaction: {
  state: InteractionState;
  endedBy?: string | null;
  endedAt?: string | null;
  parkedAt?: string | null;
  plan?: { parkedTimeoutSeconds: number } | null;
}): boolean {
  if (interaction.state !== 'WRAP' || interaction.endedBy !== 'SYSTEM') return false;
  if (!interaction.endedAt || !interaction.parkedAt || !interaction.plan) return false;
  const parkedFor = Date.parse(interaction.endedAt) - Date.parse(interaction.parkedAt);
  return parkedFor >= (interaction.plan.parkedTimeoutSeconds - 1) * 1000;
}
