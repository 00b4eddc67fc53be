-- Administration (issue 13): API keys get an ID and a last use, canned responses, the audit
-- log, and the columns the supervisors' live view (Store.QueueFigures) aggregates on.

-- A key stored before IDs existed keeps id '' and reads as workspace.LegacyAPIKeyID(hash).
ALTER TABLE api_keys ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0; -- 0: never
CREATE UNIQUE INDEX api_keys_id ON api_keys (id) WHERE id <> '';

CREATE TABLE canned_responses (
	id         TEXT PRIMARY KEY,
	title      TEXT NOT NULL,
	text       TEXT NOT NULL,
	plan_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version    INTEGER NOT NULL
);
CREATE INDEX canned_responses_title ON canned_responses (title, id);

-- Read newest first, whole or by object type or object (IDs are unique across types).
CREATE TABLE audit_log (
	id          TEXT PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	object_name TEXT NOT NULL,
	before_json TEXT NOT NULL,
	after_json  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_type ON audit_log (object_type, at, id);
CREATE INDEX audit_log_object ON audit_log (object_id, at, id);

-- The live view counts live interactions by state and plan and finds each plan's longest
-- wait from one covering index. queued_at is QueuedAt, else CreatedAt: every row stored so
-- far has no QueuedAt.
ALTER TABLE interactions ADD COLUMN queued_at INTEGER NOT NULL DEFAULT 0;
UPDATE interactions SET queued_at = created_at;
CREATE INDEX interactions_queue ON interactions (state, plan_id, queued_at);

-- It also counts the interactions completed since a time with their handling times, in
-- history and among the COMPLETED live records an archive has not moved yet. Both tables
-- get AcceptedAt and CompletedAt (0: unset), filled from `doc` for the rows stored so far;
-- history is read by completion time, so earlier days cost nothing.
ALTER TABLE interactions ADD COLUMN accepted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interactions ADD COLUMN completed_at INTEGER NOT NULL DEFAULT 0;
UPDATE interactions SET
	accepted_at = coalesce(CAST(round(unixepoch(json_extract(doc, '$.AcceptedAt'), 'subsec') * 1000) AS INTEGER), 0),
	completed_at = coalesce(CAST(round(unixepoch(json_extract(doc, '$.CompletedAt'), 'subsec') * 1000) AS INTEGER), 0);
ALTER TABLE history ADD COLUMN accepted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE history ADD COLUMN completed_at INTEGER NOT NULL DEFAULT 0;
UPDATE history SET
	accepted_at = coalesce(CAST(round(unixepoch(json_extract(doc, '$.AcceptedAt'), 'subsec') * 1000) AS INTEGER), 0),
	completed_at = coalesce(CAST(round(unixepoch(json_extract(doc, '$.CompletedAt'), 'subsec') * 1000) AS INTEGER), 0);
CREATE INDEX history_completed ON history (completed_at, plan_id, accepted_at);
