-- Validation jobs: the gate's durable work (DESIGN section 5). Each job has its own lease, so any
-- server process resumes a job whose owner died.
CREATE TABLE validation_jobs (
    id               INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES runs (id),
    declared_state   TEXT NOT NULL,
    args_hash        TEXT NOT NULL,
    declaration_json TEXT NOT NULL,
    head_sha         TEXT,
    base_sha         TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'accepted', 'refused')),
    owner            TEXT,
    lease_expires_at TEXT,
    starts           INTEGER NOT NULL DEFAULT 0,
    progress         TEXT,
    problems_json    TEXT NOT NULL DEFAULT '[]',
    result_json      TEXT,
    delivered        INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT
) STRICT;
CREATE INDEX validation_jobs_run ON validation_jobs (run_id, args_hash);
CREATE INDEX validation_jobs_pending ON validation_jobs (state) WHERE state IN ('queued', 'running');

-- One command's observed result per (commit or tree, command, environment).
CREATE TABLE validation_cache (
    subject     TEXT NOT NULL,
    command     TEXT NOT NULL,
    environment TEXT NOT NULL,
    exit_code   INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    sandboxed   INTEGER NOT NULL,
    output      TEXT NOT NULL,
    blob_sha    TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (subject, command, environment)
) STRICT;
