-- Revocation (issue 10): disabled agents, revoked API keys, and ending every session of
-- one agent at once. Routing reads READY agents only, through a partial index.
ALTER TABLE agents ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_agent_id ON sessions (agent_id);
CREATE INDEX agents_ready ON agents (username) WHERE presence = 'READY' AND disabled = 0;
