using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Claims;

/// <summary>
/// A task sent back to the queue after a run ended without success: a failure or an expired lease
/// (max_attempts, with exponential backoff), or a verifier's or reviewer's rework (max_reworks).
/// Past either budget the task escalates to a human instead.
/// </summary>
internal static class Requeue
{
    /// <summary>
    /// Counts an attempt and returns the task to the queue with exponential backoff, or escalates it
    /// once max_attempts is reached.
    /// </summary>
    internal static async Task AfterFailureAsync(LedgerWrite w, RunRow run, string why)
    {
        var task = await TaskLedger.RequireAsync(w, run.TaskId);
        var settings = RunLedger.SettingsOf(task);
        var attempts = task.Attempts + 1;
        await w.ExecuteAsync(
            "UPDATE tasks SET attempts = @attempts WHERE id = @id",
            SqlArgs.Of(new { attempts, id = task.Id })
        );
        if (attempts >= settings.MaxAttempts)
        {
            var question =
                $"Task {task.Id} failed {attempts} of {settings.MaxAttempts} allowed attempts (last: {why}). Requeue it with guidance, or cancel it?";
            await EscalationLedger.RaiseAsync(w, task.Id, run.Id, question);
            return;
        }
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            TaskStates.Ready,
            "task.requeued",
            new JsonObject { ["attempts"] = attempts, ["why"] = why }
        );
        var backoff = TimeSpan.FromSeconds(Math.Min(3600, 30 * Math.Pow(2, attempts - 1)));
        await TaskLedger.EnqueueAsync(w, task.Id, run.QueueTarget, task.Priority, w.Now + backoff, note: why);
    }

    /// <summary>
    /// Sends a task back for rework (a verifier's reject, a reviewer's changes_requested): the run is
    /// superseded, the task queued for the same builder (its original target after the line's lease
    /// time), carrying the feedback; the next run continues from this run's head. Past max_reworks the
    /// task escalates instead. Returns the task's new state.
    /// </summary>
    internal static async Task<string> ForReworkAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        string requestedBy,
        string feedback
    )
    {
        var settings = RunLedger.SettingsOf(task);
        var reworks = task.Reworks + 1;
        if (reworks > settings.MaxReworks)
        {
            await EscalationLedger.RaiseAsync(
                w,
                task.Id,
                run.Id,
                $"Task {task.Id} was sent back for rework more than max_reworks ({settings.MaxReworks}) times. Latest, from {requestedBy}: {feedback} — requeue with guidance, or cancel?"
            );
            return TaskStates.Escalated;
        }
        await w.ExecuteAsync(
            "UPDATE tasks SET reworks = @reworks WHERE id = @id",
            SqlArgs.Of(new { reworks, id = task.Id })
        );
        await StateMachine.MoveRunAsync(
            w,
            run.Id,
            RunStates.Superseded,
            "run.superseded",
            new JsonObject { ["by"] = "rework", ["requested_by"] = requestedBy },
            closeReason: $"rework requested by {requestedBy}"
        );
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            TaskStates.Ready,
            "task.rework",
            new JsonObject
            {
                ["run_id"] = run.Id,
                ["reworks"] = reworks,
                ["requested_by"] = requestedBy,
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
