-- Spec jobs, duplicate signals and CI-failure signals (issue 8).

-- Source-specific details of a signal as JSON: for a CI failure the workflow, run URL, head commit and
-- failing jobs (README, "CI-failure signals").
ALTER TABLE signals ADD COLUMN details_json TEXT COLLATE "C";

-- A new signal whose words closely match an open task or signal is linked to it, with the similarity,
-- so a human sees the possible duplicate (README, "Duplicate signals"). Written with the signal.
CREATE TABLE signal_links (
    signal_id    BIGINT NOT NULL REFERENCES signals (id),
    related_kind TEXT COLLATE "C" NOT NULL CHECK (related_kind IN ('task', 'signal')),
    related_id   BIGINT NOT NULL,
    similarity   DOUBLE PRECISION NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (signal_id, related_kind, related_id)
);
CREATE INDEX signal_links_related ON signal_links (related_kind, related_id);

-- Tasks are looked up by the signal they came from (a spec job and the packet it proposed share one).
CREATE INDEX tasks_signal ON tasks (signal_id) WHERE signal_id IS NOT NULL;
