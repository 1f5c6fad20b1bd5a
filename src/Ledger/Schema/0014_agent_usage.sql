-- Telemetry in (issue 16; README, "Telemetry"): the agents' own token and cost telemetry, received over OTLP on
-- the hooks listener, summed per run. `origin` is 'log' (one event per API request, added up) or 'metric' (a
-- counter: delta points are added up in series ''; a cumulative series keeps its highest value under its own
-- key). Measurements, not claims: outside the row audit (AuditedTables.Unaudited).
CREATE TABLE run_usage (
    run_id                INTEGER NOT NULL REFERENCES runs(id),
    origin                TEXT NOT NULL,
    series                TEXT NOT NULL,
    service               TEXT NOT NULL,
    model                 TEXT NOT NULL,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd              REAL NOT NULL DEFAULT 0,
    points                INTEGER NOT NULL DEFAULT 0,
    first_at              TEXT NOT NULL,
    last_at               TEXT NOT NULL,
    PRIMARY KEY (run_id, origin, series, service, model)
) STRICT;

-- Production errors as signals: one row per fingerprint (service, exception type, normalised message, route),
-- counted, with up to five exemplar trace ids, first and last seen, and the signal it raised. Counters, outside
-- the row audit; the signal itself is audited as every signal is.
CREATE TABLE error_groups (
    fingerprint    TEXT PRIMARY KEY,
    service        TEXT NOT NULL,
    exception_type TEXT NOT NULL,
    message        TEXT NOT NULL,
    route          TEXT NOT NULL,
    sample         TEXT NOT NULL,
    count          INTEGER NOT NULL,
    exemplars      TEXT NOT NULL DEFAULT '[]',
    first_seen     TEXT NOT NULL,
    last_seen      TEXT NOT NULL,
    signal_id      INTEGER REFERENCES signals(id)
) STRICT;
