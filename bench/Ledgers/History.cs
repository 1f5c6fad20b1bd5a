using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Bench.Ledgers;

/// <summary>
/// A ledger's past, generated in bulk: <c>rows</c> evidence items, ten per finished run, one run per
/// finished task, each item with its audit record, as months of work would leave them. Plain SQL in one
/// transaction (the audit rows carry random MACs: nothing here verifies the chain).
/// </summary>
internal static class History
{
    public static async Task AddAsync(BenchLedger ledger, int rows)
    {
        var runs = Math.Max(1, rows / 10);
        var agent = await ledger.Services.Agents.AuthenticateAsync("history", null, null);
        await ledger.Db.WriteAsync(
            "bench:history",
            async w =>
            {
                var tasksBefore = await w.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM tasks");
                var first = await w.ScalarAsync<long>("SELECT min(id) FROM tasks");
                await w.ExecuteAsync(
                    """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @runs)
                    INSERT INTO tasks (title, line, state, priority, output, repo, base_ref, base_sha, current_version, approved_version, settings_json,
                                       authored_by, author_role, created_at, updated_at)
                    SELECT 'History ' || n.i, t.line, 'shipped', t.priority, t.output, t.repo, t.base_ref, t.base_sha, t.current_version, t.approved_version,
                           t.settings_json, t.authored_by, t.author_role, t.created_at, t.updated_at
                    FROM n, tasks t WHERE t.id = @first
                    """,
                    SqlArgs.Of(new { runs, first })
                );
                await w.ExecuteAsync(
                    """
                    INSERT INTO packet_versions (task_id, version, markdown, parsed_json, author, note, created_at)
                    SELECT t.id, p.version, p.markdown, p.parsed_json, p.author, p.note, p.created_at
                    FROM tasks t, packet_versions p WHERE t.id > @tasksBefore AND p.task_id = @first AND p.version = 1
                    """,
                    SqlArgs.Of(new { tasksBefore, first })
                );
                var runsBefore = await w.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM runs");
                await w.ExecuteAsync(
                    """
                    INSERT INTO runs (task_id, agent_id, kind, state, packet_version, base_sha, start_sha, head_sha, opened_at, closed_at, terminal_state)
                    SELECT id, @agentId, 'build', 'accepted', 1, base_sha, base_sha, base_sha, created_at, created_at, 'PR_READY'
                    FROM tasks WHERE id > @tasksBefore
                    """,
                    SqlArgs.Of(new { agentId = agent.AgentId, tasksBefore })
                );
                var evidenceBefore = await w.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM evidence");
                await w.ExecuteAsync(
                    """
                    WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 9)
                    INSERT INTO evidence (run_id, kind, origin, stage, summary, content, created_by, created_at)
                    SELECT r.id, CASE k.j WHEN 0 THEN 'plan' ELSE 'log' END, 'agent', 'build', 'step ' || k.j || ' of run ' || r.id,
                           'a few lines of output from the step', 'history', r.opened_at
                    FROM runs r, k WHERE r.id > @runsBefore
                    ORDER BY r.id, k.j
                    """,
                    SqlArgs.Of(new { runsBefore })
                );
                var seqBefore = await w.ScalarAsync<long>("SELECT coalesce(max(seq), 0) FROM audit");
                await w.ExecuteAsync(
                    """
                    INSERT INTO audit (seq, at, actor, action, entity, entity_id, body, prev_hmac, hmac)
                    SELECT @seqBefore + e.id - @evidenceBefore, e.created_at, 'agent:history', 'evidence.recorded', 'run', e.run_id,
                           '{"action":"evidence.recorded","change":{"evidence_id":' || e.id || ',"kind":"' || e.kind || '","origin":"agent"}}',
                           lower(hex(randomblob(32))), lower(hex(randomblob(32)))
                    FROM evidence e WHERE e.id > @evidenceBefore
                    """,
                    SqlArgs.Of(new { seqBefore, evidenceBefore })
                );
            }
        );
    }
}
