-- Agents, plans, sessions and API keys. Lists and maps are JSON; times are Unix milliseconds.
CREATE TABLE agents (
	id             TEXT PRIMARY KEY,
	username       TEXT NOT NULL UNIQUE,
	name           TEXT NOT NULL,
	password_hash  BLOB NOT NULL,
	role           TEXT NOT NULL,
	presence       TEXT NOT NULL,
	presence_since INTEGER NOT NULL,
	auto_accept    INTEGER NOT NULL,
	capacity       TEXT NOT NULL,
	plan_ids       TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	version        INTEGER NOT NULL
);

CREATE TABLE plans (
	id                    TEXT PRIMARY KEY,
	name                  TEXT NOT NULL UNIQUE,
	channels              TEXT NOT NULL,
	disposition_codes     TEXT NOT NULL,
	disposition_required  INTEGER NOT NULL,
	wrap_seconds          INTEGER NOT NULL,
	offer_timeout_seconds INTEGER NOT NULL,
	auto_accept           INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	version               INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	agent_id   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_keys (
	key_hash   TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	scopes     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
