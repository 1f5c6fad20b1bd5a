-- Every row that carries meaning is audited (issue 15, README "What `ledger verify` proves"): these triggers
-- note each row a write inserts, changes (in a column that carries meaning) or deletes; before the commit the
-- write digests those rows (sha256 of their canonical JSON) into its audit record and empties audit_pending.
-- A row changed outside a write is noted too but never digested (every write empties the table first), so
-- `factory ledger verify` finds it. Columns left out of the digest (leases, last seen, progress) are bookkeeping.

CREATE TABLE audit_pending (
    tbl TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (tbl, key)
) STRICT;


-- agents: key id
CREATE TRIGGER agents_audit_insert AFTER INSERT ON agents BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('agents', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER agents_audit_update AFTER UPDATE OF id, name, role, verifier_role, token_hash, created_at, created_by, revoked_at ON agents BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('agents', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('agents', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER agents_audit_delete AFTER DELETE ON agents BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('agents', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- pools: key name
CREATE TRIGGER pools_audit_insert AFTER INSERT ON pools BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pools', replace(replace(NEW.name, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pools_audit_update AFTER UPDATE OF name, created_at ON pools BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pools', replace(replace(OLD.name, '%', '%25'), '/', '%2F')), ('pools', replace(replace(NEW.name, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pools_audit_delete AFTER DELETE ON pools BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pools', replace(replace(OLD.name, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- pool_members: key pool, agent_id
CREATE TRIGGER pool_members_audit_insert AFTER INSERT ON pool_members BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pool_members', replace(replace(NEW.pool, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.agent_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pool_members_audit_update AFTER UPDATE OF pool, agent_id ON pool_members BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pool_members', replace(replace(OLD.pool, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.agent_id, '%', '%25'), '/', '%2F')), ('pool_members', replace(replace(NEW.pool, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.agent_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER pool_members_audit_delete AFTER DELETE ON pool_members BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('pool_members', replace(replace(OLD.pool, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.agent_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- signals: key id
CREATE TRIGGER signals_audit_insert AFTER INSERT ON signals BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('signals', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER signals_audit_update AFTER UPDATE OF id, source, external_id, title, body, url, labels_json, author, created_at, received_at, status, status_reason, details_json ON signals BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('signals', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('signals', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER signals_audit_delete AFTER DELETE ON signals BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('signals', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- tasks: key id
CREATE TRIGGER tasks_audit_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('tasks', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER tasks_audit_update AFTER UPDATE OF id, title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json, attempts, reworks, authored_by, author_role, signal_id, target, created_at, updated_at ON tasks BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('tasks', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('tasks', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER tasks_audit_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('tasks', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- packet_versions: key task_id, version
CREATE TRIGGER packet_versions_audit_insert AFTER INSERT ON packet_versions BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('packet_versions', replace(replace(NEW.task_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.version, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER packet_versions_audit_update AFTER UPDATE OF task_id, version, markdown, parsed_json, author, note, created_at ON packet_versions BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('packet_versions', replace(replace(OLD.task_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.version, '%', '%25'), '/', '%2F')), ('packet_versions', replace(replace(NEW.task_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.version, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER packet_versions_audit_delete AFTER DELETE ON packet_versions BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('packet_versions', replace(replace(OLD.task_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.version, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- queue: key task_id
CREATE TRIGGER queue_audit_insert AFTER INSERT ON queue BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('queue', replace(replace(NEW.task_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER queue_audit_update AFTER UPDATE OF task_id, target, priority, enqueued_at, not_before, enqueued_by, note, fallback_target, fallback_after ON queue BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('queue', replace(replace(OLD.task_id, '%', '%25'), '/', '%2F')), ('queue', replace(replace(NEW.task_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER queue_audit_delete AFTER DELETE ON queue BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('queue', replace(replace(OLD.task_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- runs: key id
CREATE TRIGGER runs_audit_insert AFTER INSERT ON runs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('runs', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER runs_audit_update AFTER UPDATE OF id, task_id, agent_id, kind, state, packet_version, base_sha, start_sha, previous_run_id, queue_target, queue_note, workspace, run_ref, head_sha, opened_at, closed_at, refusals, terminal_state, close_reason, accepted_at, review_reason ON runs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('runs', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('runs', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER runs_audit_delete AFTER DELETE ON runs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('runs', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- stages: key id
CREATE TRIGGER stages_audit_insert AFTER INSERT ON stages BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('stages', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER stages_audit_update AFTER UPDATE OF id, run_id, stage, at ON stages BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('stages', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('stages', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER stages_audit_delete AFTER DELETE ON stages BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('stages', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- evidence: key id
CREATE TRIGGER evidence_audit_insert AFTER INSERT ON evidence BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('evidence', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER evidence_audit_update AFTER UPDATE OF id, run_id, kind, origin, stage, summary, content, blob_sha, blob_bytes, file_name, created_by, created_at ON evidence BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('evidence', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('evidence', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER evidence_audit_delete AFTER DELETE ON evidence BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('evidence', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- declarations: key id
CREATE TRIGGER declarations_audit_insert AFTER INSERT ON declarations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('declarations', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER declarations_audit_update AFTER UPDATE OF id, run_id, state, summary, reason, question, head_commit, residual_risk, outcome, problems_json, created_by, created_at ON declarations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('declarations', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('declarations', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER declarations_audit_delete AFTER DELETE ON declarations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('declarations', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- escalations: key id
CREATE TRIGGER escalations_audit_insert AFTER INSERT ON escalations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('escalations', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER escalations_audit_update AFTER UPDATE OF id, task_id, run_id, question, raised_by, raised_at, answer, action, answered_by, answered_at ON escalations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('escalations', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('escalations', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER escalations_audit_delete AFTER DELETE ON escalations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('escalations', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- idempotency: key caller, tool, key
CREATE TRIGGER idempotency_audit_insert AFTER INSERT ON idempotency BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('idempotency', replace(replace(NEW.caller, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.tool, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.key, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER idempotency_audit_update AFTER UPDATE OF caller, tool, key, args_hash, result_json, created_at ON idempotency BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('idempotency', replace(replace(OLD.caller, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.tool, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.key, '%', '%25'), '/', '%2F')), ('idempotency', replace(replace(NEW.caller, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.tool, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.key, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER idempotency_audit_delete AFTER DELETE ON idempotency BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('idempotency', replace(replace(OLD.caller, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.tool, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.key, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- validation_jobs: key id
CREATE TRIGGER validation_jobs_audit_insert AFTER INSERT ON validation_jobs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('validation_jobs', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER validation_jobs_audit_update AFTER UPDATE OF id, run_id, declared_state, args_hash, declaration_json, head_sha, base_sha, state, problems_json, result_json, created_at, started_at, finished_at ON validation_jobs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('validation_jobs', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('validation_jobs', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER validation_jobs_audit_delete AFTER DELETE ON validation_jobs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('validation_jobs', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- validation_cache: key subject, command, environment
CREATE TRIGGER validation_cache_audit_insert AFTER INSERT ON validation_cache BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('validation_cache', replace(replace(NEW.subject, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.command, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.environment, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER validation_cache_audit_update AFTER UPDATE OF subject, command, environment, exit_code, duration_ms, sandboxed, output, blob_sha, created_at ON validation_cache BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('validation_cache', replace(replace(OLD.subject, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.command, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.environment, '%', '%25'), '/', '%2F')), ('validation_cache', replace(replace(NEW.subject, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.command, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.environment, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER validation_cache_audit_delete AFTER DELETE ON validation_cache BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('validation_cache', replace(replace(OLD.subject, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.command, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.environment, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- verifications: key id
CREATE TRIGGER verifications_audit_insert AFTER INSERT ON verifications BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('verifications', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER verifications_audit_update AFTER UPDATE OF id, run_id, role, agent_id, state, checkout, claimed_at, closed_at ON verifications BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('verifications', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('verifications', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER verifications_audit_delete AFTER DELETE ON verifications BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('verifications', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- verdicts: key id
CREATE TRIGGER verdicts_audit_insert AFTER INSERT ON verdicts BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('verdicts', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER verdicts_audit_update AFTER UPDATE OF id, run_id, verification_id, role, agent_id, verdict, findings, created_at ON verdicts BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('verdicts', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('verdicts', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER verdicts_audit_delete AFTER DELETE ON verdicts BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('verdicts', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- reviews: key id
CREATE TRIGGER reviews_audit_insert AFTER INSERT ON reviews BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('reviews', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER reviews_audit_update AFTER UPDATE OF id, run_id, outcome, feedback, reviewer, reviewed_sha, created_at ON reviews BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('reviews', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('reviews', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER reviews_audit_delete AFTER DELETE ON reviews BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('reviews', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- feedback: key id
CREATE TRIGGER feedback_audit_insert AFTER INSERT ON feedback BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('feedback', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER feedback_audit_update AFTER UPDATE OF id, task_id, run_id, kind, text, author, created_at ON feedback BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('feedback', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('feedback', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER feedback_audit_delete AFTER DELETE ON feedback BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('feedback', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- lessons: key id
CREATE TRIGGER lessons_audit_insert AFTER INSERT ON lessons BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('lessons', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER lessons_audit_update AFTER UPDATE OF id, line, feedback_id, text, promoted_by, promoted_at, retired_at ON lessons BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('lessons', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('lessons', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER lessons_audit_delete AFTER DELETE ON lessons BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('lessons', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- shipped_events: key id
CREATE TRIGGER shipped_events_audit_insert AFTER INSERT ON shipped_events BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('shipped_events', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER shipped_events_audit_update AFTER UPDATE OF id, run_id, task_id, sha, environment, source, pr_url, shipped_at, recorded_by ON shipped_events BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('shipped_events', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('shipped_events', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER shipped_events_audit_delete AFTER DELETE ON shipped_events BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('shipped_events', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- drafts: key id
CREATE TRIGGER drafts_audit_insert AFTER INSERT ON drafts BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('drafts', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER drafts_audit_update AFTER UPDATE OF id, event_id, kind, status, author, content, brief_json, redactions, created_at, updated_at, decided_by ON drafts BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('drafts', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('drafts', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER drafts_audit_delete AFTER DELETE ON drafts BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('drafts', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- content_jobs: key event_id
CREATE TRIGGER content_jobs_audit_insert AFTER INSERT ON content_jobs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('content_jobs', replace(replace(NEW.event_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER content_jobs_audit_update AFTER UPDATE OF event_id, task_id, applied_at ON content_jobs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('content_jobs', replace(replace(OLD.event_id, '%', '%25'), '/', '%2F')), ('content_jobs', replace(replace(NEW.event_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER content_jobs_audit_delete AFTER DELETE ON content_jobs BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('content_jobs', replace(replace(OLD.event_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- hook_deliveries: key delivery_id
CREATE TRIGGER hook_deliveries_audit_insert AFTER INSERT ON hook_deliveries BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('hook_deliveries', replace(replace(NEW.delivery_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER hook_deliveries_audit_update AFTER UPDATE OF delivery_id, source, event, action, received_at, outcome ON hook_deliveries BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('hook_deliveries', replace(replace(OLD.delivery_id, '%', '%25'), '/', '%2F')), ('hook_deliveries', replace(replace(NEW.delivery_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER hook_deliveries_audit_delete AFTER DELETE ON hook_deliveries BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('hook_deliveries', replace(replace(OLD.delivery_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- merged_pull_requests: key id
CREATE TRIGGER merged_pull_requests_audit_insert AFTER INSERT ON merged_pull_requests BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('merged_pull_requests', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER merged_pull_requests_audit_update AFTER UPDATE OF id, repo, number, title, url, head_ref, head_sha, merge_sha, base_ref, merged_at, merged_by, delivery_id, recorded_at ON merged_pull_requests BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('merged_pull_requests', replace(replace(OLD.id, '%', '%25'), '/', '%2F')), ('merged_pull_requests', replace(replace(NEW.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER merged_pull_requests_audit_delete AFTER DELETE ON merged_pull_requests BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('merged_pull_requests', replace(replace(OLD.id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- signal_links: key signal_id, related_kind, related_id
CREATE TRIGGER signal_links_audit_insert AFTER INSERT ON signal_links BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('signal_links', replace(replace(NEW.signal_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.related_kind, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.related_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER signal_links_audit_update AFTER UPDATE OF signal_id, related_kind, related_id, similarity, created_at ON signal_links BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('signal_links', replace(replace(OLD.signal_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.related_kind, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.related_id, '%', '%25'), '/', '%2F')), ('signal_links', replace(replace(NEW.signal_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.related_kind, '%', '%25'), '/', '%2F') || '/' || replace(replace(NEW.related_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER signal_links_audit_delete AFTER DELETE ON signal_links BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('signal_links', replace(replace(OLD.signal_id, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.related_kind, '%', '%25'), '/', '%2F') || '/' || replace(replace(OLD.related_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;

-- attestations: key run_id
CREATE TRIGGER attestations_audit_insert AFTER INSERT ON attestations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('attestations', replace(replace(NEW.run_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER attestations_audit_update AFTER UPDATE OF run_id, head_sha, key_id, envelope, created_at ON attestations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('attestations', replace(replace(OLD.run_id, '%', '%25'), '/', '%2F')), ('attestations', replace(replace(NEW.run_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
CREATE TRIGGER attestations_audit_delete AFTER DELETE ON attestations BEGIN
    INSERT INTO audit_pending (tbl, key) VALUES ('attestations', replace(replace(OLD.run_id, '%', '%25'), '/', '%2F')) ON CONFLICT DO NOTHING;
END;
