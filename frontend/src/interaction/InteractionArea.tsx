import { formatClock, formatDuration, secondsBetween } from '../clock/format';
import { useNow } from '../clock/useNow';
import type { LogInteractionFragment, Party } from '../gql/graphql';
import { ChannelTag, contactName } from '../log/channel';
import { Composer } from './Composer';
import { conversationNoun, EndControl } from './EndControl';
import { Transcript } from './Transcript';
import { useTranscript } from './useTranscript';

const endedByText: Record<Party, string> = {
  AGENT: 'by you',
  CONTACT: 'by the contact',
  SYSTEM: 'by the system',
};

/**
 * The open interaction: who and what it is, its transcript, the reply box, and End. Once it has
 * ended, a line under the transcript says who ended it and how long it lasted (W1).
 */
export function InteractionArea({ interaction }: { interaction: LogInteractionFragment }) {
  const name = contactName(interaction.contact);
  const transcript = useTranscript(interaction.id, interaction.lastMessage?.id);
  const noun = conversationNoun(interaction.channel);
  const ended = interaction.state === 'WRAP' || interaction.state === 'COMPLETED';

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
            {interaction.state === 'ACTIVE' && interaction.acceptedAt && (
              <ActiveFor acceptedAt={interaction.acceptedAt} />
            )}
            {interaction.state === 'WRAP' && <span className="badge badge--wrap">Wrap</span>}
          </span>
        </div>
        {interaction.state === 'ACTIVE' && (
          <EndControl
            interactionId={interaction.id}
            channel={interaction.channel}
            acceptedAt={interaction.acceptedAt}
            contactName={name}
          />
        )}
      </header>
      {transcript.error ? (
        <div className="interaction__error" role="alert">
          <p>The transcript could not be loaded.</p>
          <button type="button" className="button" onClick={transcript.retry}>
            Try again
          </button>
        </div>
      ) : (
        <Transcript messages={transcript.messages} contactName={name} loading={transcript.loading} />
      )}
      {ended && (
        <p className="ended-notice" role="status">
          {noun === 'call' ? 'Call' : noun === 'email' ? 'Email' : 'Chat'} ended
          {interaction.endedBy ? ` ${endedByText[interaction.endedBy]}` : ''}
          {interaction.durationSeconds != null &&
            ` · Total duration ${formatDuration(interaction.durationSeconds)}`}
        </p>
      )}
      <Composer
        interactionId={interaction.id}
        state={interaction.state}
        onSent={transcript.refreshTail}
      />
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
