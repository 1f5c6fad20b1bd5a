-- Reserved: migration 0012 belongs to another branch in flight; this placeholder keeps the numbers without gaps
-- until that branch is merged, and is deleted then (0015_triggers.sql follows it).
SELECT 1;
