using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Claims;

public sealed partial class ClaimLedger
{
    /// <summary>
    /// Hands the task the caller holds to another builder or pool: the run becomes handed_off and the
    /// task is queued for the target, whose packet carries this run's plan and the note.
    /// </summary>
    public async Task<(RunRow Run, string Target)> HandOffAsync(
        Caller caller,
        long taskId,
        string target,
        string? note,
        CancellationToken ct = default
    )
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException("Only builders hand off work they hold.");
        await leases.SweepExpiredAsync(ct);
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var latest =
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select
                            + " WHERE r.task_id = @taskId AND r.agent_id = @agentId ORDER BY r.id DESC LIMIT 1",
                        SqlArgs.Of(new { taskId, agentId = caller.AgentId })
                    )
                    ?? throw new LedgerException(
                        $"You hold no open run on task {taskId}. An agent may hand off only the task it holds; to suggest new work, send `packet` instead."
                    );
                // An expired or closed run is refused with the reason (RequireHeldAsync says the lease expired).
                var run = await RunLedger.RequireHeldAsync(w, caller, latest.Id);
                if (run.State != RunStates.Open)
                    throw new LedgerException(
                        $"Run {run.Id} is {run.State}; a run under validation cannot be handed off. Wait for the validation result."
                    );
                var resolved = await DispatchTargets.ResolveAsync(w, target);
                if (resolved == "agent:" + caller.Name)
                    throw new LedgerException("You already hold this task; hand it to another agent or a pool.");
                var task = await TaskLedger.RequireAsync(w, taskId);
                await StateMachine.MoveRunAsync(
                    w,
                    run.Id,
                    RunStates.HandedOff,
                    "run.handed_off",
                    new JsonObject { ["target"] = resolved, ["note"] = note },
                    closeReason: $"handed off to {resolved}"
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    taskId,
                    TaskStates.Ready,
                    "task.handed_off",
                    new JsonObject { ["from_run"] = run.Id, ["target"] = resolved }
                );
                await TaskLedger.EnqueueAsync(w, taskId, resolved, task.Priority, w.Now, note: note);
                return (
                    (
                        await w.SingleOrDefaultAsync<RunRow>(
                            RunRow.Select + " WHERE r.id = @id",
                            SqlArgs.Of(new { id = run.Id })
                        )
                    )!,
                    resolved
                );
            },
            ct
        );
    }
}
