using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    /// <summary>
    /// Cancels a task that has not ended: its live run and verification claims are revoked and it leaves
    /// the queue. Returns the workspaces the caller should free.
    /// </summary>
    public async Task<(TaskRow Task, IReadOnlyList<string> Workspaces)> CancelAsync(
        Caller caller,
        long taskId,
        string reason,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human cancels tasks.");
        if (string.IsNullOrWhiteSpace(reason))
            throw new LedgerException("Give a reason for cancelling; it is kept with the task.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var task = await RequireAsync(w, taskId);
                if (TaskStates.IsFinal(task.State))
                    throw new LedgerException($"Task {taskId} already ended ({task.State}).");
                var workspaces = new List<string>();
                foreach (
                    var run in await w.QueryAsync<RunRow>(
                        RunRow.Select + " WHERE r.task_id = @taskId AND r.state IN ('open', 'validating', 'accepted')",
                        SqlArgs.Of(new { taskId })
                    )
                )
                {
                    await StateMachine.MoveRunAsync(
                        w,
                        run.Id,
                        RunStates.Cancelled,
                        "run.cancelled",
                        new JsonObject { ["reason"] = reason },
                        closeReason: $"task cancelled: {reason}"
                    );
                    if (run.Workspace is { } ws)
                        workspaces.Add(ws);
                }
                var checkouts = await w.QueryAsync<string>(
                    """
                    SELECT checkout FROM verifications WHERE state = 'claimed' AND checkout IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE task_id = @taskId)
                    """,
                    SqlArgs.Of(new { taskId })
                );
                workspaces.AddRange(checkouts);
                await w.ExecuteAsync(
                    "UPDATE verifications SET state = 'cancelled', closed_at = @now WHERE state = 'claimed' AND run_id IN (SELECT id FROM runs WHERE task_id = @taskId)",
                    SqlArgs.Of(new { now = w.NowText, taskId })
                );
                await w.ExecuteAsync("DELETE FROM queue WHERE task_id = @taskId", SqlArgs.Of(new { taskId }));
                await StateMachine.MoveTaskAsync(
                    w,
                    taskId,
                    TaskStates.Cancelled,
                    "task.cancelled",
                    new JsonObject { ["reason"] = reason }
                );
                return (await RequireAsync(w, taskId), (IReadOnlyList<string>)workspaces);
            },
            ct
        );
    }
}
