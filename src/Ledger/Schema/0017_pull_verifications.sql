-- Opened pull requests verified blind (issue 19; README, "Opened pull requests"). One row per (GitHub repository,
-- pull request, head commit): the first delivery that inserts it (ON CONFLICT DO NOTHING) makes the verification
-- task and its run; a new push (a new head) makes another. comment_* record whether the verdicts reached the PR.
CREATE TABLE pull_verifications (
    id              INTEGER PRIMARY KEY,
    repository      TEXT NOT NULL,
    number          INTEGER NOT NULL,
    head_sha        TEXT NOT NULL,
    base_sha        TEXT NOT NULL,
    author          TEXT,
    url             TEXT,
    task_id         INTEGER REFERENCES tasks (id),
    run_id          INTEGER REFERENCES runs (id),
    created_at      TEXT NOT NULL,
    comment_status  TEXT,
    comment_note    TEXT,
    UNIQUE (repository, number, head_sha)
) STRICT;
CREATE INDEX pull_verifications_task ON pull_verifications (task_id);

CREATE TRIGGER pull_verifications_audit_insert AFTER INSERT ON pull_verifications BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pull_verifications', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pull_verifications_audit_update AFTER UPDATE OF id, repository, number, head_sha, base_sha, author, url, task_id, run_id, created_at, comment_status, comment_note ON pull_verifications BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pull_verifications', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('pull_verifications', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pull_verifications_audit_delete AFTER DELETE ON pull_verifications BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pull_verifications', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
