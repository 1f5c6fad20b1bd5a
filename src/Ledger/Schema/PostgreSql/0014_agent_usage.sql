-- Telemetry in (issue 16; README, "Telemetry"): the agents' own token and cost telemetry, received over OTLP on
-- the hooks listener, summed per run. `origin` is 'log' (one event per API request, added up) or 'metric' (a
-- counter: delta points are added up in series ''; a cumulative series keeps its highest value under its own
-- key). Measurements, not claims: outside the row audit (AuditedTables.Unaudited).
CREATE TABLE run_usage (
    run_id                BIGINT NOT NULL REFERENCES runs(id),
    origin                TEXT COLLATE "C" NOT NULL,
    series                TEXT COLLATE "C" NOT NULL,
    service               TEXT COLLATE "C" NOT NULL,
    model                 TEXT COLLATE "C" NOT NULL,
    input_tokens          BIGINT NOT NULL DEFAULT 0,
    output_tokens         BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens     BIGINT NOT NULL DEFAULT 0,
    cache_creation_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd              DOUBLE PRECISION NOT NULL DEFAULT 0,
    points                BIGINT NOT NULL DEFAULT 0,
    first_at              TEXT COLLATE "C" NOT NULL,
    last_at               TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, origin, series, service, model)
);

-- Production errors as signals: one row per fingerprint (service, exception type, normalised message, route),
-- counted, with up to five exemplar trace ids, first and last seen, and the signal it raised. Counters, outside
-- the row audit; the signal itself is audited as every signal is.
CREATE TABLE error_groups (
    fingerprint    TEXT COLLATE "C" PRIMARY KEY,
    service        TEXT COLLATE "C" NOT NULL,
    exception_type TEXT COLLATE "C" NOT NULL,
    message        TEXT COLLATE "C" NOT NULL,
    route          TEXT COLLATE "C" NOT NULL,
    sample         TEXT COLLATE "C" NOT NULL,
    count          BIGINT NOT NULL,
    exemplars      TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    first_seen     TEXT COLLATE "C" NOT NULL,
    last_seen      TEXT COLLATE "C" NOT NULL,
    signal_id      BIGINT REFERENCES signals(id)
);
