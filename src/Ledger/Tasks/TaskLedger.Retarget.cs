using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    /// <summary>
    /// Human-only retargeting: points a proposed, ready or escalated task at another builder, a pool,
    /// or anyone (<see cref="DispatchTargets.Anyone"/>). A queued task keeps its place in line (its
    /// age); a task someone holds is refused, since only its holder may hand it off.
    /// </summary>
    public async Task<(TaskRow Task, string? From)> RetargetAsync(
        Caller caller,
        long taskId,
        string target,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException(
                "Only a human retargets tasks; a builder may hand off only the task it holds (enqueue_for_agent)."
            );
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var task = await RequireAsync(w, taskId);
                if (task.State is not (TaskStates.Proposed or TaskStates.Ready or TaskStates.Escalated))
                {
                    var holder = await w.SingleOrDefaultAsync<string>(
                        """
                        SELECT 'run ' || r.id || ' of ' || a.name FROM runs r JOIN agents a ON a.id = r.agent_id
                        WHERE r.task_id = @taskId AND r.state IN ('open', 'validating') ORDER BY r.id DESC LIMIT 1
                        """,
                        SqlArgs.Of(new { taskId })
                    );
                    throw new LedgerException(
                        holder is not null
                            ? $"Task {taskId} is {task.State}, held by {holder}; only its holder can hand it off. Retarget it once it is back in the queue."
                            : $"Task {taskId} is {task.State}; only proposed, ready or escalated tasks can be retargeted."
                    );
                }
                var resolved = DispatchTargets.IsAnyone(target) ? null : await DispatchTargets.ResolveAsync(w, target);
                var from =
                    await w.SingleOrDefaultAsync<string>(
                        "SELECT target FROM queue WHERE task_id = @taskId",
                        SqlArgs.Of(new { taskId })
                    ) ?? task.Target;
                await w.ExecuteAsync(
                    "UPDATE tasks SET target = @resolved, updated_at = @now WHERE id = @taskId",
                    SqlArgs.Of(
                        new
                        {
                            resolved,
                            now = w.NowText,
                            taskId,
                        }
                    )
                );
                // The queue entry keeps its enqueued_at, so the task keeps the age it earned.
                var queued = await w.ExecuteAsync(
                    "UPDATE queue SET target = @resolved WHERE task_id = @taskId",
                    SqlArgs.Of(new { resolved, taskId })
                );
                await w.AuditAsync(
                    "task.retargeted",
                    "task",
                    taskId,
                    new JsonObject
                    {
                        ["from"] = from,
                        ["target"] = resolved,
                        ["queued"] = queued == 1,
                    }
                );
                return (await RequireAsync(w, taskId), from);
            },
            ct
        );
    }
}
