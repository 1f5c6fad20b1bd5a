using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Telemetry;

/// <summary>
/// Where a run's trace hangs: the ledger's identity (the trace id is derived from it and the run id) and the
/// span id of the run's root span, stored by the first process that traces the run (runs.trace_span_id).
/// Telemetry bookkeeping, not a transition: it writes no audit record.
/// </summary>
public sealed class RunTraceIds(LedgerDatabase db)
{
    public string LedgerId => db.LedgerId;

    /// <summary>The run's stored root span id; "" when none is stored yet; null when there is no such run.</summary>
    public Task<string?> FindAsync(long runId, CancellationToken ct = default)
    {
        const string sql = "SELECT COALESCE(trace_span_id, '') FROM runs WHERE id = @runId";
        return db.QuerySingleOrDefaultAsync<string?>(sql, SqlArgs.Of(new { runId }), ct);
    }

    /// <summary>
    /// Stores <paramref name="spanId"/> as the run's root span id unless one is stored already, and returns the
    /// stored one: the caller's when it was first, another process's otherwise.
    /// </summary>
    public Task<string> StoreFirstAsync(long runId, string spanId, CancellationToken ct = default) =>
        db.WriteAsync(
            "telemetry",
            async w =>
            {
                const string store = """
                    UPDATE runs SET trace_span_id = @spanId WHERE id = @runId AND trace_span_id IS NULL
                    """;
                await w.ExecuteAsync(store, SqlArgs.Of(new { runId, spanId }));
                const string read = "SELECT trace_span_id FROM runs WHERE id = @runId";
                return await w.ScalarAsync<string>(read, SqlArgs.Of(new { runId }));
            },
            ct
        );
}
