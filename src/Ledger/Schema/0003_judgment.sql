-- Blind verification, human review, rework, feedback and lessons (DESIGN sections 3-5, 8).

-- A verifier's hold on one run for its role, under a lease; a dead verifier's claim expires and the job returns.
CREATE TABLE verifications (
    id               INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES runs (id),
    role             TEXT NOT NULL,
    agent_id         INTEGER NOT NULL REFERENCES agents (id),
    state            TEXT NOT NULL CHECK (state IN ('claimed', 'submitted', 'expired', 'cancelled')),
    checkout         TEXT,
    lease_expires_at TEXT,
    claimed_at       TEXT NOT NULL,
    closed_at        TEXT
) STRICT;
CREATE INDEX verifications_run ON verifications (run_id, role, state);

CREATE TABLE verdicts (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs (id),
    verification_id INTEGER NOT NULL REFERENCES verifications (id),
    role            TEXT NOT NULL,
    agent_id        INTEGER NOT NULL REFERENCES agents (id),
    verdict         TEXT NOT NULL CHECK (verdict IN ('approve', 'reject', 'needs_human')),
    findings        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (run_id, role)
) STRICT;

CREATE TABLE reviews (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    outcome      TEXT NOT NULL CHECK (outcome IN ('approve', 'changes_requested', 'reject')),
    feedback     TEXT NOT NULL,
    reviewer     TEXT NOT NULL,
    reviewed_sha TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX reviews_run ON reviews (run_id);

-- Post-run notes, review feedback and verifier findings: raw material for lessons, never shown to
-- other agents until a human promotes one.
CREATE TABLE feedback (
    id         INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks (id),
    run_id     INTEGER REFERENCES runs (id),
    kind       TEXT NOT NULL CHECK (kind IN ('post_run_note', 'review', 'finding')),
    text       TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX feedback_task ON feedback (task_id);

CREATE TABLE lessons (
    id          INTEGER PRIMARY KEY,
    line        TEXT NOT NULL,
    feedback_id INTEGER REFERENCES feedback (id),
    text        TEXT NOT NULL,
    promoted_by TEXT NOT NULL,
    promoted_at TEXT NOT NULL,
    retired_at  TEXT
) STRICT;
CREATE INDEX lessons_line ON lessons (line, retired_at);

-- Rework goes to the same builder first; after fallback_after anyone of the original target may take it.
ALTER TABLE queue ADD COLUMN fallback_target TEXT;
ALTER TABLE queue ADD COLUMN fallback_after TEXT;
CREATE INDEX queue_fallback ON queue (fallback_target, enqueued_at) WHERE fallback_after IS NOT NULL;

ALTER TABLE runs ADD COLUMN accepted_at TEXT;
