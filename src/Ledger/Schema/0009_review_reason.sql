-- Why a human must review an accepted run even on a line without require_review (issue 17): a benchmark too noisy
-- to tell whether head is worse than base (README, "Performance against base"). NULL: nothing beyond the line's rule.
ALTER TABLE runs ADD COLUMN review_reason TEXT;
