-- Triggers (issue 19; README, "Triggers"). trigger_firings: one row per (trigger, scheduled time), claimed by
-- the first server process that inserts it (ON CONFLICT DO NOTHING), so a firing runs once across every process
-- serving the ledger. test_results: every validation's per-test outcome per (test, commit), read for flaky tests.
CREATE TABLE trigger_firings (
    id            INTEGER PRIMARY KEY,
    trigger_name  TEXT NOT NULL,
    scheduled_at  TEXT NOT NULL,
    claimed_by    TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL,
    signals_new   INTEGER NOT NULL DEFAULT 0,
    signals_seen  INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    UNIQUE (trigger_name, scheduled_at)
) STRICT;

CREATE TABLE test_results (
    id            INTEGER PRIMARY KEY,
    repo          TEXT NOT NULL,
    line          TEXT NOT NULL,
    test          TEXT NOT NULL,
    commit_sha    TEXT NOT NULL,
    passed        INTEGER NOT NULL,
    job_id        INTEGER NOT NULL,
    recorded_at   TEXT NOT NULL,
    UNIQUE (job_id, test, commit_sha)
) STRICT;
CREATE INDEX test_results_by_test ON test_results (repo, test, id);

CREATE TRIGGER trigger_firings_audit_insert AFTER INSERT ON trigger_firings BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('trigger_firings', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER trigger_firings_audit_update AFTER UPDATE OF id, trigger_name, scheduled_at, claimed_by, started_at, finished_at, status, signals_new, signals_seen, error ON trigger_firings BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('trigger_firings', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('trigger_firings', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER trigger_firings_audit_delete AFTER DELETE ON trigger_firings BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('trigger_firings', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER test_results_audit_insert AFTER INSERT ON test_results BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('test_results', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER test_results_audit_update AFTER UPDATE OF id, repo, line, test, commit_sha, passed, job_id, recorded_at ON test_results BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('test_results', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('test_results', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER test_results_audit_delete AFTER DELETE ON test_results BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('test_results', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
