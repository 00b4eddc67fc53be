import { useEffect, useId, useRef } from 'react';
import { formatClock, formatDuration, secondsBetween } from '../clock/format';
import { useNow } from '../clock/useNow';
import type { LogInteractionFragment, Party } from '../gql/graphql';
import { ChannelTag, contactName, isProviderChannel } from '../log/channel';
import { autoParkCountdown } from '../parking/autoPark';
import { ParkButton } from '../parking/ParkButton';
import { ParkedCountdown } from '../parking/ParkedCountdown';
import { PendingTransferStatus, TransferControl } from '../transfer/TransferControl';
import { handedOverNotice, type HandedOver } from '../transfer/transferText';
import { WindowStatus } from '../whatsapp/WindowStatus';
import { windowClosedReason } from '../whatsapp/window';
import { EmailComposer } from '../email/EmailComposer';
import { Composer, type ComposerHandle } from './Composer';
import { conversationNoun, EndControl } from './EndControl';
import { Transcript } from './Transcript';
import { useTranscript } from './useTranscript';
import { ConsultCall } from '../voice/ConsultCall';

const endedByText: Record<Party, string> = {
  AGENT: 'by you',
  CONTACT: 'by the contact',
  SYSTEM: 'by the system',
};

/**
 * The open interaction: who and what it is, its transcript, the reply box, and its controls:
 * Park and Transfer while ACTIVE (K1, T1), End while ACTIVE or PARKED. Once the contact has been
 * silent for a while, a quiet "auto-parks in" countdown says when the system will park it (K2).
 * Once it has ended, a line under the transcript says who ended it and how long it lasted (W1).
 * Once it is handed over (an accepted transfer, or a queue took it) it stays open read-only with
 * a line saying where it went, and nothing can be sent (T5). On SMS, RCS and WhatsApp the header
 * names the organisation's number it runs on; on WhatsApp it counts down the 24-hour window and
 * the reply box offers templates once it has closed (O2). A failed message's Edit fills the
 * reply box (E5).
 */
export function InteractionArea({
  interaction,
  handedOver = null,
  focusReply = false,
}: {
  interaction: LogInteractionFragment;
  handedOver?: HandedOver | null;
  /** Just accepted: the reply box takes the focus once it is open. */
  focusReply?: boolean;
}) {
  const name = contactName(interaction.contact);
  // A handed-over interaction is no longer readable by this agent: keep what was loaded.
  const transcript = useTranscript(interaction.id, interaction.lastMessage?.id, handedOver === null);
  const noun = conversationNoun(interaction.channel);
  const ended = interaction.state === 'WRAP' || interaction.state === 'COMPLETED';
  const mine = handedOver === null;
  const notice = handedOver && handedOverNotice(handedOver);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const composerRef = useRef<ComposerHandle>(null);
  const pendingStatusId = useId();
  const pending = mine && interaction.state === 'ACTIVE' ? interaction.pendingTransfer : null;

  // The controls that had focus are gone: the notice takes it, so keyboard users are not lost.
  useEffect(() => {
    if (!notice) return;
    const active = document.activeElement;
    if (!active || active === document.body || noticeRef.current?.closest('section')?.contains(active))
      noticeRef.current?.focus();
  }, [notice]);

  return (
    <section className="interaction" aria-labelledby="interaction-title">
      <header className="interaction__header">
        <div className="interaction__who">
          <h2 id="interaction-title" className="interaction__title">
            {name}
          </h2>
          <span className="interaction__sub">
            <ChannelTag channel={interaction.channel} />
            {interaction.contact.name && (
              <span className="muted">{interaction.contact.address}</span>
            )}
            {(isProviderChannel(interaction.channel) || interaction.channel === 'EMAIL') && interaction.identity && (
              <span className="interaction__identity" title="The number this conversation runs on">
                via {interaction.identity.name} <span className="muted">{interaction.identity.address}</span>
              </span>
            )}
            {mine && interaction.channel === 'WHATSAPP' && interaction.state === 'ACTIVE' && (
              <WindowStatus freeTextUntil={interaction.freeTextUntil} />
            )}
            {mine && interaction.state === 'ACTIVE' && interaction.acceptedAt && (
              <ActiveFor acceptedAt={interaction.acceptedAt} />
            )}
            {mine && <AutoParkHint interaction={interaction} noun={noun} />}
            {interaction.state === 'WRAP' && <span className="badge badge--wrap">Wrap</span>}
            {mine && interaction.state === 'PARKED' && (
              <>
                <span className="badge badge--parked">Parked</span>
                {interaction.parkedUntil && (
                  <span className="interaction__timer" title="The system ends it then unless the contact replies">
                    <ParkedCountdown until={interaction.parkedUntil} label="Ends in" />
                  </span>
                )}
              </>
            )}
            {notice && <span className="badge">Transferred</span>}
            {interaction.linkedInteraction && (
              <span className="interaction__linked" data-linked={interaction.linkedInteraction.id}>
                Linked {interaction.linkedInteraction.channel === 'VOICE' ? 'call' : conversationNoun(interaction.linkedInteraction.channel)}{' '}
                with {contactName(interaction.linkedInteraction.contact)} ·{' '}
                {interaction.linkedInteraction.state.toLowerCase()}
              </span>
            )}
          </span>
        </div>
        {mine && (interaction.state === 'ACTIVE' || interaction.state === 'PARKED') && (
          <div className="interaction__controls">
            {interaction.state === 'ACTIVE' && (
              <>
                {!pending && interaction.channel !== 'VOICE' && (
                  <ParkButton interactionId={interaction.id} contactName={name} />
                )}
                {interaction.channel !== 'VOICE' && !interaction.linkedInteraction && (
                  <ConsultCall interactionId={interaction.id} />
                )}
                <TransferControl
                  interactionId={interaction.id}
                  channel={interaction.channel}
                  contactName={name}
                  pendingStatusId={pending ? pendingStatusId : null}
                />
              </>
            )}
            <EndControl
              interactionId={interaction.id}
              channel={interaction.channel}
              acceptedAt={interaction.acceptedAt}
              contactName={name}
            />
          </div>
        )}
      </header>
      {pending && <PendingTransferStatus id={pendingStatusId} pending={pending} />}
      {transcript.error ? (
        <div className="interaction__error" role="alert">
          <p>The transcript could not be loaded.</p>
          <button type="button" className="button" onClick={transcript.retry}>
            Try again
          </button>
        </div>
      ) : (
        <Transcript
          messages={transcript.messages}
          contactName={name}
          loading={transcript.loading}
          canRecover={mine && interaction.state === 'ACTIVE'}
          onEdit={(text, html, files) => composerRef.current?.edit(text, html, files)}
        />
      )}
      {notice ? (
        <p ref={noticeRef} className="handed-over-notice" role="status" tabIndex={-1}>
          {notice} · You can no longer send messages in this {noun}.
        </p>
      ) : (
        ended && (
          <p className="ended-notice" role="status">
            {noun === 'call' ? 'Call' : noun === 'email' ? 'Email' : 'Chat'} ended
            {interaction.endedBy ? ` ${endedByText[interaction.endedBy]}` : ''}
            {interaction.durationSeconds != null &&
              ` · Total duration ${formatDuration(interaction.durationSeconds)}`}
          </p>
        )
      )}
      {interaction.channel === 'EMAIL' ? (
        <EmailComposer
          ref={composerRef}
          interactionId={interaction.id}
          state={interaction.state}
          closedReason={notice ? `${notice}: replies are closed.` : undefined}
          onSent={transcript.refreshTail}
          autoFocus={focusReply}
        />
      ) : (
      <Composer
        ref={composerRef}
        interactionId={interaction.id}
        channel={interaction.channel}
        planId={interaction.plan?.id}
        whatsApp={
          interaction.channel === 'WHATSAPP'
            ? {
                freeTextUntil: interaction.freeTextUntil,
                identityId: interaction.identity?.id,
                closedReason: windowClosedReason(interaction),
              }
            : undefined
        }
        state={interaction.state}
        closedReason={notice ? `${notice}: replies are closed.` : undefined}
        onSent={transcript.refreshTail}
        autoFocus={focusReply}
      />
      )}
    </section>
  );
}

function ActiveFor({ acceptedAt }: { acceptedAt: string }) {
  const seconds = secondsBetween(acceptedAt, useNow());
  return (
    <span className="interaction__timer" title="Time since you accepted it">
      <span className="visually-hidden">Active for </span>
      {formatClock(seconds)}
    </span>
  );
}

function AutoParkHint({ interaction, noun }: { interaction: LogInteractionFragment; noun: string }) {
  const left = autoParkCountdown(interaction, useNow());
  if (left === null) return null;
  return (
    <span
      className="interaction__autopark"
      title={`The system parks this ${noun} unless the contact writes before then`}
    >
      auto-parks in {formatClock(left)}
    </span>
  );
}
