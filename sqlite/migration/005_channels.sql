-- Provider channels (O1, O2, E5): the identities the organisation talks from, their WhatsApp
-- templates, threads joining a contact's messages to a live interaction, and the delivery
-- state of outbound messages, which the outbox polls. Interactions keep their new fields in
-- `doc`; thread_key beside it is what the unique index and lookups use. History gets no
-- thread_key: a thread is unique only while its interaction is live.
CREATE TABLE identities (
	id         TEXT PRIMARY KEY,
	channel    TEXT NOT NULL,
	address    TEXT NOT NULL,
	name       TEXT NOT NULL,
	outbound   INTEGER NOT NULL,
	plan_id    TEXT NOT NULL,
	provider   TEXT NOT NULL,
	settings   TEXT NOT NULL, -- JSON object
	created_at INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	UNIQUE (channel, address)
);

CREATE TABLE templates (
	id              TEXT PRIMARY KEY,
	identity_id     TEXT NOT NULL,
	name            TEXT NOT NULL,
	language        TEXT NOT NULL,
	body            TEXT NOT NULL,
	parameter_count INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	UNIQUE (identity_id, name, language) -- also serves an identity's list, by name and language
);

ALTER TABLE interactions ADD COLUMN thread_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX interactions_thread ON interactions (thread_key) WHERE thread_key <> '';

ALTER TABLE messages ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN delivery_error TEXT NOT NULL DEFAULT ''; -- JSON; '' for none
ALTER TABLE messages ADD COLUMN template TEXT NOT NULL DEFAULT '';       -- JSON; '' for none
ALTER TABLE messages ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0; -- 0: zero time
ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX messages_external ON messages (external_id) WHERE external_id <> '';
-- The outbox's work: only PENDING messages are indexed, in the order it sends them.
CREATE INDEX messages_due ON messages (next_attempt_at, id) WHERE delivery = 'PENDING';
