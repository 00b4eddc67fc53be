-- Email (issue 15): an email message's headers and sanitised HTML body (JSON; '' on other
-- messages), and each agent's default signature (E2). Threading needs no table of its own:
-- an email's Message-ID is its external_id (unique per identity), so In-Reply-To and
-- References are looked up through messages_external.
ALTER TABLE messages ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN signature TEXT NOT NULL DEFAULT '';
