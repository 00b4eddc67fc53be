import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import { AgentsSection } from './AgentsSection';
import { ApiKeysSection } from './ApiKeysSection';
import { AuditSection } from './AuditSection';
import { CannedSection } from './CannedSection';
import { PlansSection } from './PlansSection';
import { WebhooksSection } from './WebhooksSection';
import { navigate, useHashRoute } from './route';
import './admin.css';

export const ADMIN_SECTIONS = [
  { id: 'agents', label: 'Agents' },
  { id: 'plans', label: 'Plans' },
  { id: 'api-keys', label: 'API keys' },
  { id: 'webhooks', label: 'Webhooks' },
  { id: 'canned', label: 'Canned responses' },
  { id: 'audit', label: 'Audit log' },
] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number]['id'];

const isSection = (id: string | undefined): id is AdminSection => ADMIN_SECTIONS.some((s) => s.id === id);

/**
 * The supervisor's administration area, at #/admin/<section>[/…]: a tab per section
 * (react-aria-components' Tabs, so arrow keys move between them), each tab its own route so
 * the browser's Back and links work.
 */
export function Admin() {
  const { rest } = useHashRoute();
  const section: AdminSection = isSection(rest[0]) ? rest[0] : 'agents';
  const sub = rest.slice(1);
  return (
    <div className="admin">
      <h1 className="visually-hidden">Administration</h1>
      <Tabs
        className="admin__tabs"
        selectedKey={section}
        onSelectionChange={(key) => {
          if (key !== section) navigate('admin', String(key));
        }}
      >
        <TabList aria-label="Administration" className="admin__tablist">
          {ADMIN_SECTIONS.map((s) => (
            <Tab key={s.id} id={s.id} className="admin__tab">
              {s.label}
            </Tab>
          ))}
        </TabList>
        <TabPanel id={section} className="admin__panel">
          {section === 'agents' && <AgentsSection rest={sub} />}
          {section === 'plans' && <PlansSection rest={sub} />}
          {section === 'api-keys' && <ApiKeysSection />}
          {section === 'webhooks' && <WebhooksSection />}
          {section === 'canned' && <CannedSection />}
          {section === 'audit' && <AuditSection />}
        </TabPanel>
      </Tabs>
    </div>
  );
}
