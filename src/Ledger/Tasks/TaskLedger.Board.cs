namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    /// <summary>Open tasks (and the last <paramref name="recentFinal"/> finished ones) with their newest run.</summary>
    public async Task<IReadOnlyList<BoardRow>> BoardAsync(int recentFinal = 10, CancellationToken ct = default)
    {
        const string sql = """
            WITH latest AS (SELECT task_id, max(id) AS run_id FROM runs GROUP BY task_id)
            SELECT t.id AS TaskId, t.title AS Title, t.state AS State, t.line AS Line, t.priority AS Priority, t.updated_at AS UpdatedAt,
                   r.id AS RunId, a.name AS Agent, r.state AS RunState,
                   (SELECT stage FROM stages s WHERE s.run_id = r.id ORDER BY s.id DESC LIMIT 1) AS Stage,
                   r.lease_expires_at AS LeaseExpiresAt, r.opened_at AS RunOpenedAt,
                   (SELECT COALESCE(j.progress, j.state) FROM validation_jobs j WHERE j.run_id = r.id AND j.state IN ('queued', 'running') ORDER BY j.id DESC LIMIT 1) AS Validation
            FROM tasks t
            LEFT JOIN latest l ON l.task_id = t.id
            LEFT JOIN runs r ON r.id = l.run_id
            LEFT JOIN agents a ON a.id = r.agent_id
            WHERE t.state NOT IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced')
               OR t.id IN (SELECT id FROM tasks WHERE state IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced') ORDER BY updated_at DESC LIMIT @recentFinal)
            ORDER BY CASE t.state WHEN 'escalated' THEN 0 WHEN 'awaiting_review' THEN 1 WHEN 'proposed' THEN 2 ELSE 3 END, t.priority, t.id
            """;
        return (await db.QueryAsync<BoardRow>(sql, new { recentFinal }, ct)).ToList();
    }
}
