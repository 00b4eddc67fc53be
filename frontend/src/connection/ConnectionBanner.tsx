import { useConnectionStatus } from './ConnectionContext';

/**
 * Says so while the live connection is down: offers, messages and endings reach the desk only
 * through it. Once it is back, every screen re-queries (useResync), so the banner can promise
 * that nothing is lost.
 */
export function ConnectionBanner() {
  const status = useConnectionStatus();
  if (status !== 'reconnecting') return null;
  return (
    <div className="connection-banner" role="alert">
      <span className="connection-banner__dot" aria-hidden="true" />
      Connection lost. Reconnecting… New offers and messages will appear once it is back.
    </div>
  );
}
