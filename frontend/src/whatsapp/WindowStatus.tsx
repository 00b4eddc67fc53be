import { useNow } from '../clock/useNow';
import { formatWindowLeft, freeTextSecondsLeft } from './window';

/**
 * The header's view of WhatsApp's 24-hour window (O2): how long free text may still be sent,
 * or that only templates may be sent now. It updates itself with the shared ticker.
 */
export function WindowStatus({ freeTextUntil }: { freeTextUntil: string | null | undefined }) {
  const left = freeTextSecondsLeft(freeTextUntil, useNow());
  if (left === null)
    return (
      <span
        className="window-status"
        data-open="false"
        title="WhatsApp allows only approved templates until the customer writes"
      >
        Templates only
      </span>
    );
  return (
    <span
      className="window-status"
      data-open="true"
      data-urgent={left < 3600 || undefined}
      title="WhatsApp allows free text for 24 hours after the customer's last message"
    >
      Free text for {formatWindowLeft(left)}
    </span>
  );
}
