-- FactoryMcp ledger, schema 1. Dates are ISO-8601 UTC text, fixed width (yyyy-MM-ddTHH:mm:ss.fffZ),
-- so text comparison is time comparison.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('agent', 'verifier', 'human')),
    verifier_role TEXT,
    token_hash    TEXT,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    revoked_at    TEXT,
    last_seen_at  TEXT
) STRICT;

CREATE INDEX agents_token ON agents (token_hash);

CREATE TABLE pools (
    name       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE pool_members (
    pool     TEXT NOT NULL REFERENCES pools (name),
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    PRIMARY KEY (pool, agent_id)
) STRICT;

CREATE TABLE signals (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    url         TEXT,
    labels_json TEXT NOT NULL DEFAULT '[]',
    author      TEXT,
    created_at  TEXT,
    received_at TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new',
    status_reason TEXT,
    UNIQUE (source, external_id)
) STRICT;

CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    line            TEXT NOT NULL,
    state           TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    output          TEXT NOT NULL,
    repo            TEXT NOT NULL,
    base_ref        TEXT,
    base_sha        TEXT,
    current_version INTEGER NOT NULL,
    approved_version INTEGER,
    settings_json   TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    reworks         INTEGER NOT NULL DEFAULT 0,
    authored_by     TEXT NOT NULL,
    author_role     TEXT NOT NULL,
    signal_id       INTEGER REFERENCES signals (id),
    target          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX tasks_state ON tasks (state);

CREATE TABLE packet_versions (
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    version     INTEGER NOT NULL,
    markdown    TEXT NOT NULL,
    parsed_json TEXT NOT NULL,
    author      TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (task_id, version)
) STRICT;

-- Work waiting for a claim. target: 'agent:NAME', 'pool:NAME', or NULL for any builder.
CREATE TABLE queue (
    task_id     INTEGER PRIMARY KEY REFERENCES tasks (id),
    target      TEXT,
    priority    INTEGER NOT NULL,
    enqueued_at TEXT NOT NULL,
    not_before  TEXT NOT NULL,
    enqueued_by TEXT NOT NULL,
    note        TEXT
) STRICT;
CREATE INDEX queue_pick ON queue (target, priority, enqueued_at);

CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    task_id            INTEGER NOT NULL REFERENCES tasks (id),
    agent_id           INTEGER NOT NULL REFERENCES agents (id),
    kind               TEXT NOT NULL,
    state              TEXT NOT NULL,
    packet_version     INTEGER NOT NULL,
    base_sha           TEXT,
    start_sha          TEXT,
    previous_run_id    INTEGER REFERENCES runs (id),
    queue_target       TEXT,
    queue_note         TEXT,
    workspace          TEXT,
    run_ref            TEXT,
    head_sha           TEXT,
    lease_expires_at   TEXT,
    lease_started_at   TEXT,
    opened_at          TEXT NOT NULL,
    closed_at          TEXT,
    refusals           INTEGER NOT NULL DEFAULT 0,
    terminal_state     TEXT,
    close_reason       TEXT
) STRICT;
CREATE INDEX runs_task ON runs (task_id);
CREATE INDEX runs_agent_state ON runs (agent_id, state);
CREATE INDEX runs_open_lease ON runs (lease_expires_at) WHERE state = 'open';

CREATE TABLE stages (
    id     INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    stage  TEXT NOT NULL,
    at     TEXT NOT NULL
) STRICT;
CREATE INDEX stages_run ON stages (run_id);

CREATE TABLE evidence (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    kind       TEXT NOT NULL,
    origin     TEXT NOT NULL CHECK (origin IN ('agent', 'server', 'verifier')),
    stage      TEXT,
    summary    TEXT NOT NULL,
    content    TEXT,
    blob_sha   TEXT,
    blob_bytes INTEGER,
    file_name  TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX evidence_run ON evidence (run_id, kind);

CREATE TABLE declarations (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    state         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    reason        TEXT,
    question      TEXT,
    head_commit   TEXT,
    residual_risk TEXT,
    outcome       TEXT NOT NULL,
    problems_json TEXT NOT NULL DEFAULT '[]',
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX declarations_run ON declarations (run_id);

-- Questions the line cannot answer alone; answered by a human.
CREATE TABLE escalations (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    run_id      INTEGER REFERENCES runs (id),
    question    TEXT NOT NULL,
    raised_by   TEXT NOT NULL,
    raised_at   TEXT NOT NULL,
    answer      TEXT,
    action      TEXT,
    answered_by TEXT,
    answered_at TEXT
) STRICT;
CREATE INDEX escalations_task ON escalations (task_id);

CREATE TABLE idempotency (
    caller      TEXT NOT NULL,
    tool        TEXT NOT NULL,
    key         TEXT NOT NULL,
    args_hash   TEXT NOT NULL,
    result_json TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (caller, tool, key)
) STRICT;

-- Append-only, HMAC-chained. body is the canonical JSON (RFC 8785) of the record without its hmac.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id INTEGER,
    body      TEXT NOT NULL,
    prev_hmac TEXT NOT NULL,
    hmac      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_entity ON audit (entity, entity_id);
