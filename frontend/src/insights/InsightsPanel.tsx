import { useState, type ReactNode } from 'react';
import { Tab as AriaTab, TabList, TabPanel, Tabs } from 'react-aria-components';
import { formatDuration } from '../clock/format';
import type { LogInteractionFragment, Party } from '../gql/graphql';
import { channelLabel, contactName, isProviderChannel } from '../log/channel';

type Tab = 'information' | 'metadata';
const tabs: { id: Tab; label: string }[] = [
  { id: 'information', label: 'Information' },
  { id: 'metadata', label: 'Metadata' },
];

const partyName: Record<Party, string> = { AGENT: 'You', CONTACT: 'Contact', SYSTEM: 'System' };

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/**
 * Insights on the open interaction: who and what it is (on SMS, RCS and WhatsApp also the
 * organisation's number it runs on), and its metadata with the Interaction ID
 * and a Copy button (H3), which CRMs use to fetch it and its transcript. The tabs are
 * react-aria-components' (the ARIA pattern: arrow keys, Home and End move between them).
 */
export function InsightsPanel({ interaction }: { interaction: LogInteractionFragment }) {
  const [tab, setTab] = useState<Tab>('information');
  const provider = isProviderChannel(interaction.channel);

  return (
    <section className="insights" aria-label="Insights">
      <h2 className="panel-title">Insights</h2>
      <Tabs selectedKey={tab} onSelectionChange={(key) => setTab(key as Tab)} className="insights__tabset">
        <TabList aria-label="Insights" className="insights__tabs">
          {tabs.map((t) => (
            <AriaTab key={t.id} id={t.id} className="insights__tab">
              {t.label}
            </AriaTab>
          ))}
        </TabList>
        <TabPanel id={tab} className="insights__panel">
        {tab === 'information' ? (
          <dl className="facts">
            <Fact term="Contact">
              {/* On SMS and WhatsApp a contact without a name is known by their number. */}
              {provider ? contactName(interaction.contact) : (interaction.contact.name ?? '—')}
            </Fact>
            <Fact term={provider ? 'Number' : 'Address'}>{interaction.contact.address}</Fact>
            <Fact term="Channel">
              {channelLabel[interaction.channel]}
              {interaction.direction === 'OUTBOUND' && ' (outbound)'}
            </Fact>
            {provider && (
              <Fact term="Identity">
                {interaction.identity ? `${interaction.identity.name} · ${interaction.identity.address}` : '—'}
              </Fact>
            )}
            <Fact term="Plan">{interaction.plan?.name ?? '—'}</Fact>
            <Fact term="State">{interaction.state.charAt(0) + interaction.state.slice(1).toLowerCase()}</Fact>
            <Fact term="Accepted">{when(interaction.acceptedAt)}</Fact>
            {interaction.endedAt && (
              <>
                <Fact term="Ended">
                  {when(interaction.endedAt)}
                  {interaction.endedBy && ` (${partyName[interaction.endedBy]})`}
                </Fact>
                {interaction.durationSeconds != null && (
                  <Fact term="Duration">{formatDuration(interaction.durationSeconds)}</Fact>
                )}
              </>
            )}
          </dl>
        ) : (
          <dl className="facts">
            <Fact term="Interaction ID">
              <InteractionId id={interaction.id} />
            </Fact>
            <Fact term="Created">{when(interaction.createdAt)}</Fact>
            {interaction.plan && <Fact term="Plan ID">{interaction.plan.id}</Fact>}
          </dl>
        )}
        </TabPanel>
      </Tabs>
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="facts__row">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** The GUID, selectable, with a Copy button that says whether copying worked. */
export function InteractionId({ id }: { id: string }) {
  const [status, setStatus] = useState('');

  async function copy() {
    try {
      await navigator.clipboard.writeText(id);
      setStatus('Copied');
    } catch {
      setStatus('Copying is blocked here: select the ID and copy it.');
    }
  }

  return (
    <span className="interaction-id">
      <code className="interaction-id__value" data-testid="interaction-id">
        {id}
      </code>
      <button type="button" className="button button--small" onClick={copy} aria-label="Copy Interaction ID">
        Copy
      </button>
      <span className="interaction-id__status muted" role="status">
        {status}
      </span>
    </span>
  );
}
