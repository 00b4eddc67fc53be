-- Routing reads only the few READY agents with room who have been idle longest (issue 14):
-- beside each agent, when it last became idle for routing (Agent.IdleSince: the later of its
-- last offer and its last presence change), in Unix milliseconds, and an index that walks
-- the READY agents in that order, so a LIMIT stops the read after a few rows.
ALTER TABLE agents ADD COLUMN idle_since INTEGER NOT NULL DEFAULT 0;
UPDATE agents SET idle_since = max(presence_since, last_offer_at);
DROP INDEX agents_ready;
CREATE INDEX agents_ready ON agents (idle_since, id) WHERE presence = 'READY' AND disabled = 0;
