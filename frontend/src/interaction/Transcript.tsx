import { useVirtualizer } from '@tanstack/react-virtual';
import { useLayoutEffect, useRef } from 'react';
import { formatTime } from '../clock/format';
import { DeliveryFailure, DeliveryMark, type EditFiles } from '../delivery/DeliveryMark';
import { MessageAttachments } from '../attachments/MessageAttachments';
import type { Party, TranscriptMessageFragment } from '../gql/graphql';
import { EmailBody } from '../email/EmailBody';

/** Rows rendered beyond the visible ones, so fast scrolling shows no gaps. */
const OVERSCAN = 12;
/** Within this many pixels of the bottom, the view follows new messages. */
const FOLLOW_SLACK_PX = 48;

const partyClass: Record<Party, string> = {
  AGENT: 'msg--agent',
  CONTACT: 'msg--contact',
  SYSTEM: 'msg--system',
};

export interface TranscriptProps {
  messages: readonly TranscriptMessageFragment[];
  contactName: string;
  loading: boolean;
  /** Size of the scroll area before it is measured (tests; the first frame). */
  initialRect?: { width: number; height: number };
  /** Whether a failed message offers Retry or Edit: the agent may still write here (E5). */
  canRecover?: boolean;
  /** Edit on a failed message: its text (and an email's HTML) go back to the reply box. */
  onEdit?: (text: string, html?: string | null, files?: EditFiles) => void;
}

/**
 * The conversation, windowed: only the rows in view (plus a margin) are in the DOM, measured as
 * they render, so a 5,000-message transcript scrolls like a short one. It sticks to the newest
 * message unless the agent has scrolled up to read. Agent, contact and system messages differ
 * in side, colour and label. On provider channels the agent's messages carry their delivery
 * mark, and a failed one says why and offers Retry or Edit.
 */
export function Transcript({
  messages,
  contactName,
  loading,
  initialRect,
  canRecover = false,
  onEdit,
}: TranscriptProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  // The virtualizer's functions change identity as it measures; this component is not memoised.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 64,
    overscan: OVERSCAN,
    getItemKey: (index) => messages[index]?.id ?? index,
    initialRect,
  });
  const rows = virtualizer.getVirtualItems();
  const totalSize = virtualizer.getTotalSize();

  // Keep the newest message in view while following; re-run as rows are measured.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && following.current && messages.length > 0) el.scrollTop = el.scrollHeight;
  }, [messages.length, totalSize]);

  const latestIncoming = findLast(messages, (m) => m.from === 'CONTACT');

  return (
    <div className="transcript">
      <div
        ref={scrollRef}
        className="transcript__scroll"
        role="region"
        aria-label={`Transcript with ${contactName}`}
        aria-busy={loading}
        tabIndex={0}
        onScroll={(event) => {
          const el = event.currentTarget;
          following.current = el.scrollHeight - el.scrollTop - el.clientHeight <= FOLLOW_SLACK_PX;
        }}
      >
        {messages.length === 0 && !loading && <p className="muted transcript__empty">No messages yet.</p>}
        <div className="transcript__rows" style={{ height: totalSize }}>
          {rows.map((row) => {
            const message = messages[row.index]!;
            return (
              <div
                key={row.key}
                ref={virtualizer.measureElement}
                data-index={row.index}
                className="transcript__row"
                style={{ transform: `translateY(${row.start}px)` }}
              >
                <MessageBubble
                  message={message}
                  contactName={contactName}
                  position={row.index + 1}
                  total={messages.length}
                  canRecover={canRecover}
                  onEdit={onEdit}
                />
              </div>
            );
          })}
        </div>
      </div>
      {loading && (
        <p className="transcript__loading muted" role="status">
          Loading messages… {messages.length > 0 && `(${messages.length} so far)`}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {latestIncoming ? `${contactName}: ${latestIncoming.text}${filesSaid(latestIncoming.attachments.length)}` : ''}
      </p>
    </div>
  );
}

function MessageBubble({
  message,
  contactName,
  position,
  total,
  canRecover,
  onEdit,
}: {
  message: TranscriptMessageFragment;
  contactName: string;
  position: number;
  total: number;
  canRecover: boolean;
  onEdit?: (text: string, html?: string | null, files?: EditFiles) => void;
}) {
  const who =
    message.from === 'AGENT'
      ? (message.agent?.name ?? 'Agent')
      : message.from === 'CONTACT'
        ? contactName
        : 'System';
  // Only the agent's own messages on provider channels have a delivery status.
  const delivery = message.from === 'AGENT' ? message.delivery : null;
  return (
    <article
      className={`msg ${partyClass[message.from]}`}
      aria-posinset={position}
      aria-setsize={total}
      aria-label={`${who}, ${formatTime(message.sentAt)}`}
      data-from={message.from}
      data-delivery={delivery ?? undefined}
    >
      {message.from !== 'SYSTEM' && (
        <span className="msg__meta">
          <span className="msg__who">{who}</span>
          <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
          {delivery && <DeliveryMark status={delivery} />}
        </span>
      )}
      {message.email ? (
        <EmailBody email={message.email} text={message.text} />
      ) : (
        (message.text !== '' || message.attachments.length === 0) && <p className="msg__text">{message.text}</p>
      )}
      <MessageAttachments attachments={message.attachments} />
      {delivery === 'FAILED' && <DeliveryFailure message={message} canRecover={canRecover} onEdit={onEdit} />}
    </article>
  );
}

function filesSaid(count: number): string {
  return count === 0 ? '' : count === 1 ? ' (1 file)' : ` (${count} files)`;
}

function findLast<T>(items: readonly T[], match: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (match(items[i]!)) return items[i];
  return undefined;
}
