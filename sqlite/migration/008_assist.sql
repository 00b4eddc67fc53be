-- Agent Assist (issue 17): each plan's two switches, off for the plans stored so far, and
-- what assist keeps of completed interactions to learn disposition codes from (scrubbed
-- text and the code chosen), read per plan in ID order, which is completion order.
ALTER TABLE plans ADD COLUMN disposition_assist INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN summary_assist INTEGER NOT NULL DEFAULT 0;

CREATE TABLE assist_examples (
	id      TEXT PRIMARY KEY,
	plan_id TEXT NOT NULL,
	code    TEXT NOT NULL,
	text    TEXT NOT NULL,
	at      INTEGER NOT NULL
);
CREATE INDEX assist_examples_plan ON assist_examples (plan_id, id);
