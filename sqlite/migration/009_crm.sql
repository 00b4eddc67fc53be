-- CRM integration (issue 18): change tracking, the outbox of change events, webhooks.

-- When anything about an interaction last changed; rows from before it take their creation
-- (history: their completion), as decodeInteraction does for their docs.
ALTER TABLE interactions ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE history ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE interactions SET updated_at = CASE WHEN completed_at > 0 THEN completed_at ELSE created_at END;
UPDATE history SET updated_at = CASE WHEN completed_at > 0 THEN completed_at ELSE created_at END;
-- A CRM's incremental sync reads both tables in updated_at order.
CREATE INDEX interactions_updated ON interactions (updated_at, id);
CREATE INDEX history_updated ON history (updated_at, id);
CREATE INDEX interactions_plan ON interactions (plan_id, created_at, id);
CREATE INDEX history_plan ON history (plan_id, created_at, id);

-- Change events, written in the transaction of the change. seq is the one order readers
-- follow: SQLite has one writer, so a larger seq is always committed later.
CREATE TABLE events (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	id             TEXT NOT NULL UNIQUE,
	kind           TEXT NOT NULL,
	at             INTEGER NOT NULL,
	interaction_id TEXT NOT NULL,
	message_id     TEXT NOT NULL
);

-- kinds is a comma-separated list; times are milliseconds, 0 for none.
CREATE TABLE webhooks (
	id              TEXT PRIMARY KEY,
	url             TEXT NOT NULL,
	kinds           TEXT NOT NULL,
	secret          TEXT NOT NULL,
	active          INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	cursor          INTEGER NOT NULL,
	attempts        INTEGER NOT NULL,
	failing_since   INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	lease_until     INTEGER NOT NULL,
	last_event_id   TEXT NOT NULL, -- '': no attempt yet
	last_attempts   INTEGER NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	last_attempt_at INTEGER NOT NULL,
	version         INTEGER NOT NULL
);

CREATE TABLE webhook_failures (
	webhook_id      TEXT NOT NULL,
	event_id        TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	last_attempt_at INTEGER NOT NULL,
	PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_failures_newest ON webhook_failures (webhook_id, last_attempt_at, event_id);
