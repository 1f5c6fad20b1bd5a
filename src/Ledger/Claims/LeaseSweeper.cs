using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Claims;

/// <summary>
/// Leases: an open run whose lease ran out is expired and its task goes back to the queue (an attempt
/// counted), or escalates at max_attempts. Every write that could meet an expired run sweeps first.
/// </summary>
public sealed class LeaseSweeper(LedgerDatabase db)
{
    private readonly Lock sweepGate = new();
    private DateTimeOffset nextSweep = DateTimeOffset.MinValue;

    /// <summary>
    /// The sweep, at most once a second per process, for the agents' most frequent write: it exists for
    /// other runs (claims and declarations sweep every time), while the caller's own run is checked
    /// inside the write (<see cref="RunLedger.LeaseLapsedException"/>).
    /// </summary>
    internal async Task SweepIfDueAsync(CancellationToken ct)
    {
        var now = db.Now;
        lock (sweepGate)
        {
            if (now < nextSweep)
                return;
            nextSweep = now.AddSeconds(1);
        }
        await SweepExpiredAsync(ct);
    }

    /// <summary>
    /// Expires open runs whose lease ran out: the task returns to the queue (an attempt counted) or
    /// escalates after max_attempts. The check is a read; only a due expiry writes.
    /// </summary>
    public async Task<int> SweepExpiredAsync(CancellationToken ct = default)
    {
        var now = Iso.Text(db.Now);
        var due = (
            await db.QueryAsync<long>(
                "SELECT id FROM runs WHERE state = 'open' AND lease_expires_at IS NOT NULL AND lease_expires_at < @now",
                SqlArgs.Of(new { now }),
                ct
            )
        ).ToList();
        foreach (var runId in due)
        {
            await db.WriteAsync(
                "server:lease-sweeper",
                async w =>
                {
                    var run = await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select + " WHERE r.id = @runId",
                        SqlArgs.Of(new { runId })
                    );
                    if (
                        run is null
                        || run.State != RunStates.Open
                        || run.LeaseExpiresAt is not { } expires
                        || expires >= w.Now
                    )
                        return;
                    if (!run.Started)
                    {
                        // Claimed but never handed over (the server died preparing the workspace): no attempt counted.
                        var reason =
                            $"the claim was never handed over before {Iso.Text(expires)} (its server stopped while preparing the workspace)";
                        await StateMachine.MoveRunAsync(
                            w,
                            runId,
                            RunStates.Cancelled,
                            "run.claim_abandoned",
                            new JsonObject { ["lease_expires_at"] = Iso.Text(expires) },
                            closeReason: "claim abandoned"
                        );
                        var held = await TaskLedger.RequireAsync(w, run.TaskId);
                        await StateMachine.MoveTaskAsync(
                            w,
                            held.Id,
                            TaskStates.Ready,
                            "task.requeued",
                            new JsonObject { ["reason"] = reason }
                        );
                        await TaskLedger.EnqueueAsync(w, held.Id, run.QueueTarget, held.Priority, w.Now, note: reason);
                        return;
                    }
                    await StateMachine.MoveRunAsync(
                        w,
                        runId,
                        RunStates.Expired,
                        "run.lease_expired",
                        new JsonObject { ["lease_expires_at"] = Iso.Text(expires) },
                        closeReason: "lease expired"
                    );
                    await Requeue.AfterFailureAsync(w, run, $"the lease of run {runId} expired at {Iso.Text(expires)}");
                },
                ct
            );
        }
        return due.Count;
    }
}
