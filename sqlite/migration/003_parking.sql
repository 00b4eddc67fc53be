-- Parking and transfers (K1–K6, T1–T6): per-plan parking rules, each agent's recently
-- contacted peers. Interactions keep their new fields in `doc`.
ALTER TABLE plans ADD COLUMN auto_park_seconds INTEGER NOT NULL DEFAULT 600;
ALTER TABLE plans ADD COLUMN parked_timeout_seconds INTEGER NOT NULL DEFAULT 3600;
ALTER TABLE plans ADD COLUMN post_parking_plan_id TEXT NOT NULL DEFAULT '';

ALTER TABLE agents ADD COLUMN recent TEXT NOT NULL DEFAULT '[]';
