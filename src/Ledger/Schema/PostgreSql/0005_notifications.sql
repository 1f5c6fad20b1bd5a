-- Escalations are announced once (notifications: escalation in factory.yaml): the first process to
-- claim one stamps it, after the escalation itself committed.
ALTER TABLE escalations ADD COLUMN notified_at TEXT COLLATE "C";
CREATE INDEX escalations_unnotified ON escalations (id) WHERE notified_at IS NULL;
