-- Voice (issue 16): where each agent takes calls, SOFTPHONE (the browser, over WebRTC) or
-- HARDPHONE (a SIP phone registered with agentdesk); '' means SOFTPHONE. A call's linked
-- interaction (X1) and its endpoint live in the interaction's JSON doc.
ALTER TABLE agents ADD COLUMN call_endpoint TEXT NOT NULL DEFAULT '';
