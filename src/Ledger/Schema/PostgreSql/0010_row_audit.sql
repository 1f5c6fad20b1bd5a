-- Every row that carries meaning is audited (issue 15, README "What `ledger verify` proves"): these triggers
-- note each row a write inserts, changes (in a column that carries meaning) or deletes; before the commit the
-- write digests those rows (sha256 of their canonical JSON) into its audit record and empties audit_pending.
-- A row changed outside a write is noted too but never digested (every write empties the table first), so
-- `factory ledger verify` finds it. Columns left out of the digest (leases, last seen, progress) are bookkeeping.

CREATE TABLE audit_pending (
    tbl TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (tbl, key)
);

-- The row's key: its primary key columns (the trigger's arguments) as text, '%' and '/' escaped, joined by '/'.
CREATE FUNCTION audit_row_key(r JSONB, columns TEXT[]) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT string_agg(replace(replace(r ->> c, '%', '%25'), '/', '%2F'), '/' ORDER BY o)
            FROM unnest(columns) WITH ORDINALITY AS u (c, o));

CREATE FUNCTION audit_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO audit_pending (tbl, key) VALUES (TG_TABLE_NAME, audit_row_key(to_jsonb(OLD), TG_ARGV))
        ON CONFLICT (tbl, key) DO UPDATE SET xid = EXCLUDED.xid;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO audit_pending (tbl, key) VALUES (TG_TABLE_NAME, audit_row_key(to_jsonb(NEW), TG_ARGV))
        ON CONFLICT (tbl, key) DO UPDATE SET xid = EXCLUDED.xid;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER agents_audit AFTER INSERT OR DELETE OR UPDATE OF id, name, role, verifier_role, token_hash, created_at, created_by, revoked_at ON agents
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER pools_audit AFTER INSERT OR DELETE OR UPDATE OF name, created_at ON pools
    FOR EACH ROW EXECUTE FUNCTION audit_touch('name');
CREATE TRIGGER pool_members_audit AFTER INSERT OR DELETE OR UPDATE OF pool, agent_id ON pool_members
    FOR EACH ROW EXECUTE FUNCTION audit_touch('pool', 'agent_id');
CREATE TRIGGER signals_audit AFTER INSERT OR DELETE OR UPDATE OF id, source, external_id, title, body, url, labels_json, author, created_at, received_at, status, status_reason, details_json ON signals
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER tasks_audit AFTER INSERT OR DELETE OR UPDATE OF id, title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json, attempts, reworks, authored_by, author_role, signal_id, target, created_at, updated_at ON tasks
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER packet_versions_audit AFTER INSERT OR DELETE OR UPDATE OF task_id, version, markdown, parsed_json, author, note, created_at ON packet_versions
    FOR EACH ROW EXECUTE FUNCTION audit_touch('task_id', 'version');
CREATE TRIGGER queue_audit AFTER INSERT OR DELETE OR UPDATE OF task_id, target, priority, enqueued_at, not_before, enqueued_by, note, fallback_target, fallback_after ON queue
    FOR EACH ROW EXECUTE FUNCTION audit_touch('task_id');
CREATE TRIGGER runs_audit AFTER INSERT OR DELETE OR UPDATE OF id, task_id, agent_id, kind, state, packet_version, base_sha, start_sha, previous_run_id, queue_target, queue_note, workspace, run_ref, head_sha, opened_at, closed_at, refusals, terminal_state, close_reason, accepted_at, review_reason ON runs
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER stages_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, stage, at ON stages
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER evidence_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, kind, origin, stage, summary, content, blob_sha, blob_bytes, file_name, created_by, created_at ON evidence
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER declarations_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, state, summary, reason, question, head_commit, residual_risk, outcome, problems_json, created_by, created_at ON declarations
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER escalations_audit AFTER INSERT OR DELETE OR UPDATE OF id, task_id, run_id, question, raised_by, raised_at, answer, action, answered_by, answered_at ON escalations
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER idempotency_audit AFTER INSERT OR DELETE OR UPDATE OF caller, tool, key, args_hash, result_json, created_at ON idempotency
    FOR EACH ROW EXECUTE FUNCTION audit_touch('caller', 'tool', 'key');
CREATE TRIGGER validation_jobs_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, declared_state, args_hash, declaration_json, head_sha, base_sha, state, problems_json, result_json, created_at, started_at, finished_at ON validation_jobs
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER validation_cache_audit AFTER INSERT OR DELETE OR UPDATE OF subject, command, environment, exit_code, duration_ms, sandboxed, output, blob_sha, created_at ON validation_cache
    FOR EACH ROW EXECUTE FUNCTION audit_touch('subject', 'command', 'environment');
CREATE TRIGGER verifications_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, role, agent_id, state, checkout, claimed_at, closed_at ON verifications
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER verdicts_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, verification_id, role, agent_id, verdict, findings, created_at ON verdicts
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER reviews_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, outcome, feedback, reviewer, reviewed_sha, created_at ON reviews
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER feedback_audit AFTER INSERT OR DELETE OR UPDATE OF id, task_id, run_id, kind, text, author, created_at ON feedback
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER lessons_audit AFTER INSERT OR DELETE OR UPDATE OF id, line, feedback_id, text, promoted_by, promoted_at, retired_at ON lessons
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER shipped_events_audit AFTER INSERT OR DELETE OR UPDATE OF id, run_id, task_id, sha, environment, source, pr_url, shipped_at, recorded_by ON shipped_events
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER drafts_audit AFTER INSERT OR DELETE OR UPDATE OF id, event_id, kind, status, author, content, brief_json, redactions, created_at, updated_at, decided_by ON drafts
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER content_jobs_audit AFTER INSERT OR DELETE OR UPDATE OF event_id, task_id, applied_at ON content_jobs
    FOR EACH ROW EXECUTE FUNCTION audit_touch('event_id');
CREATE TRIGGER hook_deliveries_audit AFTER INSERT OR DELETE OR UPDATE OF delivery_id, source, event, action, received_at, outcome ON hook_deliveries
    FOR EACH ROW EXECUTE FUNCTION audit_touch('delivery_id');
CREATE TRIGGER merged_pull_requests_audit AFTER INSERT OR DELETE OR UPDATE OF id, repo, number, title, url, head_ref, head_sha, merge_sha, base_ref, merged_at, merged_by, delivery_id, recorded_at ON merged_pull_requests
    FOR EACH ROW EXECUTE FUNCTION audit_touch('id');
CREATE TRIGGER signal_links_audit AFTER INSERT OR DELETE OR UPDATE OF signal_id, related_kind, related_id, similarity, created_at ON signal_links
    FOR EACH ROW EXECUTE FUNCTION audit_touch('signal_id', 'related_kind', 'related_id');
CREATE TRIGGER attestations_audit AFTER INSERT OR DELETE OR UPDATE OF run_id, head_sha, key_id, envelope, created_at ON attestations
    FOR EACH ROW EXECUTE FUNCTION audit_touch('run_id');
