-- Webhook deliveries seen (deduplicated by X-GitHub-Delivery) and merged pull requests reported by
-- them; shipping a run from a merge comes later and reads merged_pull_requests.
CREATE TABLE hook_deliveries (
    delivery_id TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    event       TEXT NOT NULL,
    action      TEXT,
    received_at TEXT NOT NULL,
    outcome     TEXT NOT NULL
) STRICT;

CREATE TABLE merged_pull_requests (
    id          INTEGER PRIMARY KEY,
    repo        TEXT NOT NULL,
    number      INTEGER NOT NULL,
    title       TEXT NOT NULL,
    url         TEXT,
    head_ref    TEXT,
    head_sha    TEXT NOT NULL,
    merge_sha   TEXT,
    base_ref    TEXT,
    merged_at   TEXT,
    merged_by   TEXT,
    delivery_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (repo, number)
) STRICT;
