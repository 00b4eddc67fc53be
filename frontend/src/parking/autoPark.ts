import { formatDuration, secondsUntil } from '../clock/format';
import type { InteractionState } from '../gql/graphql';

/**
 * Auto-park (K2): the system parks an ACTIVE interaction whose contact has not written for its
 * plan's `autoParkSeconds`. The interaction header counts down to it once the contact has been
 * silent for a while, and the desk says so when it happens.
 */

/** Seconds of the contact's silence before the header shows when the system will park. */
export const AUTO_PARK_HINT_AFTER_SECONDS = 60;

interface AutoParkPlan {
  autoParkSeconds?: number | null;
}

/**
 * Whether the system parked a PARKED interaction for its contact's silence (K2): the server
 * names the agent who parked it (`parkedBy`), and no one when the system did.
 */
export function parkedBySystem(interaction: { state: InteractionState; parkedBy?: { id: string } | null }): boolean {
  return interaction.state === 'PARKED' && !interaction.parkedBy;
}

/** The toast when the system parked it, with the plan's auto-park time if it has one. */
export function autoParkedMessage(contact: string, autoParkSeconds: number | null | undefined): string {
  return autoParkSeconds
    ? `${contact} was parked after ${formatDuration(autoParkSeconds)} without a reply`
    : `${contact} was parked for lack of a reply`;
}

/**
 * Seconds until the system parks an ACTIVE interaction, once its contact has been silent for
 * AUTO_PARK_HINT_AFTER_SECONDS; null when there is nothing to say: auto-park is off, the contact
 * wrote lately, or a transfer is waiting for an answer (auto-park waits for it).
 */
export function autoParkCountdown(
  interaction: {
    state: InteractionState;
    autoParkAt?: string | null;
    pendingTransfer?: unknown;
    plan?: AutoParkPlan | null;
  },
  now: number,
): number | null {
  const seconds = interaction.plan?.autoParkSeconds;
  if (interaction.state !== 'ACTIVE' || !interaction.autoParkAt || !seconds || interaction.pendingTransfer) return null;
  const left = secondsUntil(interaction.autoParkAt, now);
  return seconds - left >= AUTO_PARK_HINT_AFTER_SECONDS ? left : null;
}
