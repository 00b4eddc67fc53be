import { formatDuration, secondsUntil } from '../clock/format';
import type { InteractionState } from '../gql/graphql';

/**
 * Auto-park (K2): the system parks an ACTIVE interaction whose contact has not written for its
 * plan's `autoParkSeconds`. The interaction header counts down to it once the contact has been
 * silent for a while, and the desk says so when it happens.
 */

/** Seconds of the contact's silence before the header shows when the system will park. */
export const AUTO_PARK_HINT_AFTER_SECONDS = 60;

/** How long a mark from the Park button waits for the PARKED update it announces. */
const PARK_MARK_MS = 60_000;
const parkedHere = new Map<string, number>();

/** The Park button marks an interaction just before parking it, so its update is not taken for the system's. */
export function markParkedHere(interactionId: string) {
  parkedHere.set(interactionId, Date.now());
}

/** The park failed: no update follows. */
export function unmarkParkedHere(interactionId: string) {
  parkedHere.delete(interactionId);
}

/** Whether this desk parked the interaction just now; the mark is used up. */
export function takeParkedHere(interactionId: string): boolean {
  const at = parkedHere.get(interactionId);
  parkedHere.delete(interactionId);
  return at !== undefined && Date.now() - at < PARK_MARK_MS;
}

interface AutoParkPlan {
  autoParkSeconds?: number | null;
}

/**
 * The silence (seconds) after which the system parked a PARKED interaction, or null if it
 * cannot have: its plan parks automatically, and it was parked no sooner than that long after
 * the contact last wrote (or, if they have not written since, after it was accepted). The agent
 * parking it themselves is told apart by takeParkedHere.
 */
export function autoParkedAfter(interaction: {
  state: InteractionState;
  parkedAt?: string | null;
  lastContactAt?: string | null;
  acceptedAt?: string | null;
  plan?: AutoParkPlan | null;
}): number | null {
  const seconds = interaction.plan?.autoParkSeconds;
  const since = interaction.lastContactAt ?? interaction.acceptedAt;
  if (interaction.state !== 'PARKED' || !interaction.parkedAt || !seconds || !since) return null;
  return Date.parse(interaction.parkedAt) - Date.parse(since) >= (seconds - 1) * 1000 ? seconds : null;
}

/** The toast when the system parked it. */
export function autoParkedMessage(contact: string, autoParkSeconds: number): string {
  return `${contact} was parked after ${formatDuration(autoParkSeconds)} without a reply`;
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
