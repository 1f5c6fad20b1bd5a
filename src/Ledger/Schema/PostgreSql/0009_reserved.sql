-- Reserved: migration 0009 belongs to another branch in flight; this placeholder keeps the numbers without gaps
-- until that branch is merged, and is deleted then (0010_row_audit.sql follows it).
SELECT 1;
