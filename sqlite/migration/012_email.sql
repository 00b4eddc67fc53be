-- Email (issue 15): an email message's headers and sanitised HTML body (JSON; '' on other
-- messages), and each agent's default signature (E2). Threading needs no table of its own:
-- an email's Message-ID is its external_id (unique per identity), so In-Reply-To and
-- References are looked up through messages_external.
ALTER TABLE messages ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN signature TEXT NOT NULL DEFAULT '';
-- The IMAP poller's place in an identity's mailbox: the mailbox's UIDVALIDITY and the last
-- UID stored; 0 for none (never polled).
ALTER TABLE identities ADD COLUMN mailbox_validity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN mailbox_uid INTEGER NOT NULL DEFAULT 0;
