-- Routing lists the READY agents with room on a channel who serve a plan, idle longest first,
-- and reads only those whose decoded copy is older than their version (issue 14): the index
-- holds every column that read tests and returns, so it touches no row of the table.
DROP INDEX agents_ready;
CREATE INDEX agents_ready ON agents (idle_since, id, version, room, plan_ids) WHERE presence = 'READY' AND disabled = 0;
