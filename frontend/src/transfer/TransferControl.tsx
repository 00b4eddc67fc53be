import { useState } from 'react';
import { formatClock, secondsUntil } from '../clock/format';
import { useNow } from '../clock/useNow';
import type { Channel, LogInteractionFragment } from '../gql/graphql';
import { TransferDialog } from './TransferDialog';

type Pending = NonNullable<LogInteractionFragment['pendingTransfer']>;

/**
 * Transfer (T1): opens the transfer dialog. While a transfer waits for its target's answer the
 * button stays in place but does nothing and points at the pending transfer's status.
 * `aria-disabled` rather than `disabled` keeps it focusable, so focus has somewhere to return to
 * when the dialog closes.
 */
export function TransferControl({
  interactionId,
  channel,
  contactName,
  pendingStatusId,
}: {
  interactionId: string;
  channel: Channel;
  contactName: string;
  /** The id of the pending transfer's status while one waits, else null. */
  pendingStatusId: string | null;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="button"
        aria-haspopup="dialog"
        aria-disabled={pendingStatusId !== null}
        aria-describedby={pendingStatusId ?? undefined}
        onClick={() => {
          if (pendingStatusId === null) setOpen(true);
        }}
      >
        Transfer
      </button>
      {open && (
        <TransferDialog
          interactionId={interactionId}
          channel={channel}
          contactName={contactName}
          onClose={() => setOpen(false)}
          onTransferred={() => setOpen(false)}
        />
      )}
    </>
  );
}

/** "Transferring to …" with the time left before the offer lapses and counts as rejected (T6). */
export function PendingTransferStatus({ id, pending }: { id: string; pending: Pending }) {
  const left = secondsUntil(pending.expiresAt, useNow());
  return (
    <p id={id} className="pending-transfer" role="status">
      Transferring to {pending.to?.name ?? 'another agent'}…{' '}
      <span className="pending-transfer__left">
        Counts as rejected in <span role="timer">{formatClock(left)}</span> unless answered
      </span>
    </p>
  );
}
