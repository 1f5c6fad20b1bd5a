using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Telemetry;

/// <summary>One count of the floor: a metric, up to two label values, and its value.</summary>
public sealed record FloorCount
{
    public required string Metric { get; init; }
    public required string A { get; init; }
    public required string B { get; init; }
    public required long Value { get; init; }
}

/// <summary>
/// The ledger's running totals behind the factory's metrics, read in one query: every process that shares the
/// ledger sees the same numbers, whoever made the change (a stdio agent, the HTTP server, a CLI command).
/// </summary>
public sealed class FloorCounts(LedgerDatabase db)
{
    public const string QueueDepth = "queue";
    public const string Claims = "claims";
    public const string LeaseExpiries = "expiries";
    public const string Declarations = "declarations";
    public const string Verdicts = "verdicts";
    public const string Shipped = "shipped";

    public async Task<IReadOnlyList<FloorCount>> ReadAsync(CancellationToken ct = default)
    {
        const string sql = """
            SELECT 'queue' AS Metric, line AS A, COALESCE(target, 'anyone') AS B, COUNT(*) AS Value
            FROM tasks WHERE state = 'ready' GROUP BY line, COALESCE(target, 'anyone')
            UNION ALL
            SELECT 'claims', t.line, r.kind, COUNT(*)
            FROM runs r JOIN tasks t ON t.id = r.task_id GROUP BY t.line, r.kind
            UNION ALL
            SELECT 'expiries', t.line, '', COUNT(*)
            FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.state = 'expired' GROUP BY t.line
            UNION ALL
            SELECT 'declarations', outcome, state, COUNT(*) FROM declarations GROUP BY outcome, state
            UNION ALL
            SELECT 'verdicts', role, verdict, COUNT(*) FROM verdicts GROUP BY role, verdict
            UNION ALL
            SELECT 'shipped', environment, '', COUNT(*) FROM shipped_events GROUP BY environment
            """;
        return [.. await db.QueryAsync<FloorCount>(sql, ct: ct)];
    }
}
