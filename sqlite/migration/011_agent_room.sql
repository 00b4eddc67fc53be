-- Routing reads only the agents who can take the work (issue 14): beside each agent, the
-- channels on which they have a free slot (Agent.RoomOn), as ",WEBCHAT,SMS,", or "," for
-- none. '' means not known yet (a row written before this column): such rows are read, and
-- routing checks them; the next write of the agent fills it in.
ALTER TABLE agents ADD COLUMN room TEXT NOT NULL DEFAULT '';
