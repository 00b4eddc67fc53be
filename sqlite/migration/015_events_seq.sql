-- Events numbered without AUTOINCREMENT (issue 14): AUTOINCREMENT keeps the largest seq in
-- sqlite_sequence and rewrites that table's page in every transaction that inserts an event,
-- one WAL page more per commit of a change. A plain INTEGER PRIMARY KEY takes the largest
-- seq plus one, which is the same number as long as the newest event is never deleted:
-- events are never deleted, and anything that trims them one day must keep the newest.
-- seq is still the one order readers follow: one writer, so a larger seq commits later.
CREATE TABLE events_numbered (
	seq            INTEGER PRIMARY KEY,
	id             TEXT NOT NULL UNIQUE,
	kind           TEXT NOT NULL,
	at             INTEGER NOT NULL,
	interaction_id TEXT NOT NULL,
	message_id     TEXT NOT NULL
);
INSERT INTO events_numbered (seq, id, kind, at, interaction_id, message_id)
	SELECT seq, id, kind, at, interaction_id, message_id FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_numbered RENAME TO events;
DELETE FROM sqlite_sequence WHERE name = 'events';
