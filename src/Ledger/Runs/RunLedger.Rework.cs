using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Runs;

public sealed partial class RunLedger
{
    /// <summary>
    /// Sends a task back for rework (a verifier's reject, a reviewer's changes_requested): the run is
    /// superseded, the task queued for the same builder (its original target after the line's lease
    /// time), carrying the feedback; the next run continues from this run's head. Past max_reworks the
    /// task escalates instead. Returns the task's new state.
    /// </summary>
    internal static async Task<string> ReworkAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        string requestedBy,
        string feedback
    )
    {
        var settings = SettingsOf(task);
        var reworks = task.Reworks + 1;
        if (reworks > settings.MaxReworks)
        {
            await EscalateTaskAsync(
                w,
                task.Id,
                run.Id,
                $"Task {task.Id} was sent back for rework more than max_reworks ({settings.MaxReworks}) times. Latest, from {requestedBy}: {feedback} — requeue with guidance, or cancel?"
            );
            return TaskStates.Escalated;
        }
        await w.ExecuteAsync("UPDATE tasks SET reworks = @reworks WHERE id = @id", new { reworks, id = task.Id });
        await StateMachine.MoveRunAsync(
            w,
            run.Id,
            RunStates.Superseded,
            "run.superseded",
            new { by = "rework", requested_by = requestedBy },
            closeReason: $"rework requested by {requestedBy}"
        );
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            TaskStates.Ready,
            "task.rework",
            new
            {
                run_id = run.Id,
                reworks,
                requested_by = requestedBy,
            }
        );
        var note =
            $"Rework {reworks} of at most {settings.MaxReworks}, requested by {requestedBy}. Continue from the previous head and address this:\n\n{feedback}";
        await TaskLedger.EnqueueAsync(
            w,
            task.Id,
            "agent:" + run.AgentName,
            task.Priority,
            w.Now,
            note,
            fallbackTarget: run.QueueTarget,
            fallbackAfter: w.Now.AddMinutes(settings.LeaseMinutes)
        );
        return TaskStates.Ready;
    }
}
