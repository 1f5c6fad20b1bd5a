namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    /// <summary>The task drafted from a signal (by a template or a spec job) if any, else its latest spec job.</summary>
    public Task<TaskRow?> FindBySignalAsync(long signalId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<TaskRow>(
            SelectTask + " WHERE t.signal_id = @signalId ORDER BY t.line = 'spec', t.id DESC LIMIT 1",
            new { signalId },
            ct
        );
}
