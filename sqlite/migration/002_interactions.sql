-- Interactions: live ones (every state but COMPLETED) apart from history, so the live path
-- never reads completed records; transcripts in their own append-only table. The whole record
-- is JSON in `doc`; the columns beside it are what queries filter and sort on.
ALTER TABLE agents ADD COLUMN holds TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN last_offer_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN missed_offers INTEGER NOT NULL DEFAULT 0;

CREATE TABLE interactions (
	id              TEXT PRIMARY KEY,
	state           TEXT NOT NULL,
	channel         TEXT NOT NULL,
	agent_id        TEXT NOT NULL,
	plan_id         TEXT NOT NULL,
	contact_address TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	due_at          INTEGER NOT NULL, -- 0: no timer
	version         INTEGER NOT NULL,
	doc             TEXT NOT NULL
);
CREATE INDEX interactions_agent ON interactions (agent_id, created_at, id);
CREATE INDEX interactions_state ON interactions (state, plan_id, created_at, id);
CREATE INDEX interactions_due ON interactions (due_at) WHERE due_at > 0;
CREATE INDEX interactions_created ON interactions (created_at, id);

CREATE TABLE history (
	id              TEXT PRIMARY KEY,
	state           TEXT NOT NULL,
	channel         TEXT NOT NULL,
	agent_id        TEXT NOT NULL,
	plan_id         TEXT NOT NULL,
	contact_address TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	doc             TEXT NOT NULL
);
CREATE INDEX history_created ON history (created_at, id);
CREATE INDEX history_agent ON history (agent_id, created_at, id);
CREATE INDEX history_contact ON history (contact_address, created_at, id);

CREATE TABLE messages (
	id             TEXT PRIMARY KEY, -- UUIDv7: sorts by time
	interaction_id TEXT NOT NULL,
	from_party     TEXT NOT NULL,
	agent_id       TEXT NOT NULL,
	text           TEXT NOT NULL,
	sent_at        INTEGER NOT NULL
);
CREATE INDEX messages_interaction ON messages (interaction_id, id);
