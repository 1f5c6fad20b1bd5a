namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    /// <summary>The task drafted from a signal, if any.</summary>
    public Task<TaskRow?> FindBySignalAsync(long signalId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<TaskRow>(SelectTask + " WHERE t.signal_id = @signalId ORDER BY t.id LIMIT 1", new { signalId }, ct);
}
