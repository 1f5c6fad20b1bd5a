using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Telemetry;

/// <summary>
/// One MCP tool call that concerned a run: the tool, the caller, its start on the ledger's clock, its duration,
/// and for a refused call the kind of error (<c>tool_error</c>, or the exception type); null when it succeeded.
/// </summary>
public sealed record ToolCallRecord(
    long RunId,
    string Tool,
    string Agent,
    DateTimeOffset StartedAt,
    long DurationMs,
    string? Error
);

/// <summary>
/// Tool calls on runs (migration 0016, README "The run timeline"): diagnostics written in batches by the
/// process's buffer, at most <see cref="PerRun"/> kept per run, drawn on the run timeline. Calls naming a run
/// the ledger does not have are dropped (the run id may be an agent's typo).
/// </summary>
public sealed class ToolCallLedger(LedgerDatabase db)
{
    /// <summary>The most recent calls kept per run; older ones are deleted as new ones are written.</summary>
    public const int PerRun = 2000;

    /// <summary>Writes a batch in one transaction, then trims each run it touched to its last <see cref="PerRun"/>.</summary>
    public Task AppendAsync(IReadOnlyList<ToolCallRecord> calls, CancellationToken ct = default)
    {
        const string insert = """
            INSERT INTO tool_calls (run_id, tool, agent, started_at, duration_ms, error)
            SELECT @RunId, @Tool, @Agent, @StartedAt, @DurationMs, @Error
             WHERE EXISTS (SELECT 1 FROM runs WHERE id = @RunId)
            """;
        const string trim = """
            DELETE FROM tool_calls
             WHERE run_id = @runId
               AND id <= (SELECT id FROM tool_calls WHERE run_id = @runId ORDER BY id DESC LIMIT 1 OFFSET @keep)
            """;
        if (calls.Count == 0)
            return Task.CompletedTask;
        return db.WriteAsync(
            "tool-calls",
            async w =>
            {
                foreach (var c in calls)
                    await w.ExecuteAsync(
                        insert,
                        SqlArgs.Of(
                            new
                            {
                                c.RunId,
                                Tool = Cap(c.Tool, 100),
                                Agent = Cap(c.Agent, 100),
                                StartedAt = Iso.Text(c.StartedAt),
                                c.DurationMs,
                                Error = c.Error is null ? null : Cap(c.Error, 100),
                            }
                        )
                    );
                foreach (var runId in calls.Select(c => c.RunId).Distinct())
                    await w.ExecuteAsync(trim, SqlArgs.Of(new { runId, keep = PerRun }));
            },
            ct
        );
    }

    /// <summary>Deletes the tool calls of the given runs (`factory gc`, once their workspaces are gone).</summary>
    public Task<int> DeleteForRunsAsync(IReadOnlyCollection<long> runIds, CancellationToken ct = default)
    {
        if (runIds.Count == 0)
            return Task.FromResult(0);
        var ids = runIds.Distinct().ToArray();
        return db.WriteAsync(
            "gc",
            w =>
                w.ExecuteAsync(
                    new Sql(
                        Sqlite: "DELETE FROM tool_calls WHERE run_id IN @ids",
                        PostgreSql: "DELETE FROM tool_calls WHERE run_id = ANY(@ids)"
                    ),
                    SqlArgs.Of(new { ids })
                ),
            ct
        );
    }

    public async Task<long> CountAsync(long runId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM tool_calls WHERE run_id = @runId",
            SqlArgs.Of(new { runId }),
            ct
        );

    private static string Cap(string text, int max) => text.Length <= max ? text : text[..max];
}
