using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Runs;

/// <summary>
/// Runs: reads of runs, and the two checks every write on a held run shares (the caller holds it; its
/// lease renews). Claims, evidence, declarations and validation jobs are ledgers of their own
/// (<c>Claims/</c>, <c>Evidence/</c>, <c>Declarations/</c>, <c>Validation/</c>).
/// </summary>
public sealed partial class RunLedger(LedgerDatabase db)
{
    public const string BuildKind = "build";

    /// <summary>A run of a spec job: it answers with a proposed packet, NO_OP or ESCALATE, never PR_READY (README, "Spec jobs").</summary>
    public const string SpecKind = "spec";

    public async Task<RunRow> GetAsync(long runId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<RunRow>(
            RunRow.Select + " WHERE r.id = @runId",
            SqlArgs.Of(new { runId }),
            ct
        ) ?? throw new LedgerException($"There is no run {runId}.");

    /// <summary>The build run an agent holds (open or validating), if any.</summary>
    public Task<RunRow?> HeldByAsync(long agentId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<RunRow>(
            RunRow.Select
                + " WHERE r.agent_id = @agentId AND r.state IN ('open', 'validating') AND r.kind = 'build' ORDER BY r.id LIMIT 1",
            SqlArgs.Of(new { agentId }),
            ct
        );

    public async Task<IReadOnlyList<long>> AllIdsAsync(CancellationToken ct = default) =>
        (await db.QueryAsync<long>("SELECT id FROM runs ORDER BY id", ct: ct)).ToList();

    public async Task<IReadOnlyList<RunRow>> ListForTaskAsync(long taskId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<RunRow>(
                RunRow.Select + " WHERE r.task_id = @taskId ORDER BY r.id",
                SqlArgs.Of(new { taskId }),
                ct
            )
        ).ToList();

    public async Task<IReadOnlyList<StageRow>> StagesAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<StageRow>(
                "SELECT run_id AS RunId, stage AS Stage, at AS At FROM stages WHERE run_id = @runId ORDER BY id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();

    /// <summary>The frozen settings of the run's task.</summary>
    public static TaskSettings SettingsOf(TaskRow task) =>
        task.SettingsJson is { } json
            ? TaskSettings.FromJson(json)
            : throw new LedgerException($"Task {task.Id} was never approved; it has no frozen settings.");

    /// <summary>A run inside a write, which must exist.</summary>
    internal static async Task<RunRow> RequireAsync(LedgerWrite w, long runId) =>
        await w.SingleOrDefaultAsync<RunRow>(RunRow.Select + " WHERE r.id = @runId", SqlArgs.Of(new { runId }))
        ?? throw new LedgerException($"There is no run {runId}.");

    /// <summary>
    /// Loads the run the caller holds, refusing another agent's run, a closed run, or one whose lease
    /// ran out (the expiry itself is committed by <see cref="Claims.LeaseSweeper.SweepExpiredAsync"/> before this runs; a
    /// lease that ran out since the last sweep is <see cref="LeaseLapsedException"/>, so the caller sweeps
    /// and tries again, and never renews a lease that already ran out).
    /// </summary>
    internal static async Task<RunRow> RequireHeldAsync(LedgerWrite w, Caller caller, long runId) =>
        Held(
            w,
            caller,
            runId,
            await w.SingleOrDefaultAsync<RunRow>(RunRow.Select + " WHERE r.id = @runId", SqlArgs.Of(new { runId }))
        );

    /// <summary>
    /// <see cref="RequireHeldAsync"/> with the run's task, in one prepared statement: the read every write on a
    /// held run makes first (record_evidence's, the agents' most frequent write).
    /// </summary>
    internal static async Task<(RunRow Run, TaskRow Task)> RequireHeldWithTaskAsync(
        LedgerWrite w,
        Caller caller,
        long runId
    )
    {
        const string sql =
            "SELECT "
            + RunRow.Columns
            + ", "
            + TaskRow.Columns
            + " FROM runs r JOIN agents a ON a.id = r.agent_id JOIN tasks t ON t.id = r.task_id WHERE r.id = @runId";
        RunRow? run = null;
        TaskRow? task = null;
        await using (var reader = await w.Prepared(sql, ("runId", runId)).ExecuteReaderAsync(w.Cancellation))
            if (await reader.ReadAsync(w.Cancellation))
            {
                run = RunRow.Read(reader);
                task = TaskRow.Read(reader, RunRow.ColumnCount);
            }
        return (Held(w, caller, runId, run), task!);
    }

    private static RunRow Held(LedgerWrite w, Caller caller, long runId, RunRow? found)
    {
        var run =
            found ?? throw new LedgerException($"There is no run {runId}. get_task_packet returns the run you hold.");
        if (run.AgentId != caller.AgentId)
            throw new LedgerException(
                $"Run {runId} belongs to {run.AgentName}, not {caller.Name}; you may act only on the run you hold. get_task_packet returns yours."
            );
        if (run.State == RunStates.Expired)
            throw new LedgerException(
                $"Run {runId}'s lease expired at {Iso.Text(run.LeaseExpiresAt!.Value)} and the task went back to the queue; nothing was recorded. Call get_task_packet to continue with a fresh run."
            );
        if (!RunStates.IsLive(run.State))
            throw new LedgerException(
                $"Run {runId} is {run.State} and closed; nothing more can be recorded on it. Call get_task_packet for your next task."
            );
        if (run.State == RunStates.Open && run.LeaseExpiresAt is { } expires && expires < w.Now)
            throw new LeaseLapsedException(runId, expires);
        return run;
    }

    /// <summary>A held run whose lease ran out after the last sweep: sweep (which expires it), then retry.</summary>
    internal sealed class LeaseLapsedException(long runId, DateTimeOffset expires)
        : LedgerException(
            $"Run {runId}'s lease expired at {Iso.Text(expires)}; nothing was recorded. Call get_task_packet to continue with a fresh run."
        );

    /// <summary>Renews the lease of an open run (validating runs keep theirs frozen). Returns the run's lease deadline now.</summary>
    internal static async Task<DateTimeOffset?> RenewLeaseAsync(LedgerWrite w, RunRow run, TaskSettings settings)
    {
        if (run.State != RunStates.Open || !run.Started)
            return run.LeaseExpiresAt;
        var until = w.Now.AddMinutes(settings.LeaseMinutes);
        // Renewed a moment ago (within a second, or a hundredth of a short lease): the lease and the agent's
        // last-seen time stand, and the write touches two pages fewer. An agent writing many items in a
        // burst renews once a second, not once per item.
        var slack = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, (until - w.Now).Ticks / 100));
        if (run.LeaseExpiresAt is { } current && current >= until - slack)
            return current;
        await w.ExecutePreparedAsync(
            "UPDATE runs SET lease_expires_at = @until WHERE id = @id",
            ("until", Iso.Text(until)),
            ("id", run.Id)
        );
        await w.ExecutePreparedAsync(
            "UPDATE agents SET last_seen_at = @now WHERE id = @agentId",
            ("now", w.NowText),
            ("agentId", run.AgentId)
        );
        return until;
    }
}
