-- Attachments (issue 12): the records of files sent with messages and of drafts not sent
-- yet (the bytes are in the blob store), and the files of each message.

-- message_id and interaction_id are '' on a draft; expires_at is 0 once sent.
CREATE TABLE attachments (
	id             TEXT PRIMARY KEY,
	uploaded_by    TEXT NOT NULL,
	uploader_id    TEXT NOT NULL,
	interaction_id TEXT NOT NULL,
	message_id     TEXT NOT NULL,
	file_name      TEXT NOT NULL,
	content_type   TEXT NOT NULL,
	size           INTEGER NOT NULL,
	sha256         TEXT NOT NULL,
	blob_key       TEXT NOT NULL,
	scan           TEXT NOT NULL,
	signature      TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL, -- 0: zero time
	version        INTEGER NOT NULL
);
-- A page of a transcript reads its messages' files in one query, by message then ID; drafts
-- are not in this index, nor sent files in the next.
CREATE INDEX attachments_message ON attachments (message_id, id) WHERE message_id <> '';
-- The sweeper reads only the drafts, oldest expiry first.
CREATE INDEX attachments_drafts ON attachments (expires_at, id) WHERE message_id = '';

-- The files of a message, in the order they were attached: a JSON array; '' for none, as
-- every message stored so far.
ALTER TABLE messages ADD COLUMN attachment_ids TEXT NOT NULL DEFAULT '';
