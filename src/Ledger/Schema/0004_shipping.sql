-- Software -> marketing (DESIGN section 11): shipped events, drafts, and the content jobs that improve them.

-- Append-only: a change reached users. Exactly one per run; only the reviewed SHA ships.
CREATE TABLE shipped_events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL UNIQUE REFERENCES runs (id),
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    sha         TEXT NOT NULL,
    environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
    source      TEXT NOT NULL,
    pr_url      TEXT,
    shipped_at  TEXT NOT NULL,
    recorded_by TEXT NOT NULL
) STRICT;
CREATE TRIGGER shipped_events_append_only_update BEFORE UPDATE ON shipped_events BEGIN SELECT RAISE(ABORT, 'shipped events are append-only'); END;
CREATE TRIGGER shipped_events_append_only_delete BEFORE DELETE ON shipped_events BEGIN SELECT RAISE(ABORT, 'shipped events are append-only'); END;

-- Drafts made from a shipped event's allowlisted brief; never published automatically.
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES shipped_events (id),
    kind        TEXT NOT NULL CHECK (kind IN ('blog', 'social', 'changelog')),
    status      TEXT NOT NULL CHECK (status IN ('drafted', 'approved', 'rejected')),
    author      TEXT NOT NULL,
    content     TEXT NOT NULL,
    brief_json  TEXT NOT NULL,
    redactions  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    decided_by  TEXT,
    UNIQUE (event_id, kind)
) STRICT;

-- A content packet sent to a writer for one shipped event.
CREATE TABLE content_jobs (
    event_id   INTEGER PRIMARY KEY REFERENCES shipped_events (id),
    task_id    INTEGER NOT NULL REFERENCES tasks (id),
    applied_at TEXT
) STRICT;
