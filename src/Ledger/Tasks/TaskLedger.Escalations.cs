using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;

namespace FactoryMcp.Ledger.Tasks;

public sealed record EscalationRow
{
    public required long Id { get; init; }
    public required long TaskId { get; init; }
    public long? RunId { get; init; }
    public required string Question { get; init; }
    public required string RaisedBy { get; init; }
    public required DateTimeOffset RaisedAt { get; init; }
    public string? Answer { get; init; }
    public string? Action { get; init; }
    public string? AnsweredBy { get; init; }

    internal const string Select = """
        SELECT id AS Id, task_id AS TaskId, run_id AS RunId, question AS Question, raised_by AS RaisedBy, raised_at AS RaisedAt,
               answer AS Answer, action AS Action, answered_by AS AnsweredBy
        FROM escalations
        """;
}

public sealed partial class TaskLedger
{
    public async Task<IReadOnlyList<EscalationRow>> EscalationsAsync(long taskId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<EscalationRow>(
                EscalationRow.Select + " WHERE task_id = @taskId ORDER BY id",
                new { taskId },
                ct
            )
        ).ToList();

    /// <summary>
    /// Answers a task's open escalation. requeue: the task is ready again (attempt and rework budgets
    /// start afresh, the answer reaches the next packet, work continues from the last head); cancel: it ends.
    /// </summary>
    public async Task<TaskRow> AnswerEscalationAsync(
        Caller caller,
        long taskId,
        string answer,
        string action,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human answers escalations.");
        action = (action ?? "").Trim().ToLowerInvariant();
        if (action is not ("requeue" or "cancel"))
            throw new LedgerException($"Action '{action}' is not requeue or cancel.");
        if (string.IsNullOrWhiteSpace(answer))
            throw new LedgerException("The answer is empty; the next builder reads it in its packet.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var task = await RequireAsync(w, taskId);
                if (task.State != TaskStates.Escalated)
                    throw new LedgerException(
                        $"Task {taskId} is {task.State}, not escalated; there is nothing to answer."
                    );
                var open = await w.SingleOrDefaultAsync<EscalationRow>(
                    EscalationRow.Select + " WHERE task_id = @taskId AND answer IS NULL ORDER BY id DESC LIMIT 1",
                    new { taskId }
                );
                if (open is not null)
                {
                    await w.ExecuteAsync(
                        "UPDATE escalations SET answer = @answer, action = @action, answered_by = @by, answered_at = @now WHERE task_id = @taskId AND answer IS NULL",
                        new
                        {
                            answer,
                            action,
                            by = caller.Name,
                            now = w.NowText,
                            taskId,
                        }
                    );
                }
                var latest = await w.SingleOrDefaultAsync<RunRow>(
                    RunRow.Select + " WHERE r.task_id = @taskId ORDER BY r.id DESC LIMIT 1",
                    new { taskId }
                );
                if (action == "cancel")
                {
                    await StateMachine.MoveTaskAsync(
                        w,
                        taskId,
                        TaskStates.Cancelled,
                        "task.escalation_answered",
                        new
                        {
                            escalation_id = open?.Id,
                            action,
                            answer,
                        }
                    );
                }
                else
                {
                    if (latest is { State: RunStates.Accepted or RunStates.NoOp })
                        await StateMachine.MoveRunAsync(
                            w,
                            latest.Id,
                            RunStates.Superseded,
                            "run.superseded",
                            new { by = "escalation answer" },
                            closeReason: "superseded after an escalation was answered"
                        );
                    await w.ExecuteAsync(
                        "UPDATE tasks SET attempts = 0, reworks = 0 WHERE id = @taskId",
                        new { taskId }
                    );
                    await StateMachine.MoveTaskAsync(
                        w,
                        taskId,
                        TaskStates.Ready,
                        "task.escalation_answered",
                        new
                        {
                            escalation_id = open?.Id,
                            action,
                            answer,
                        }
                    );
                    await EnqueueAsync(
                        w,
                        taskId,
                        latest?.QueueTarget ?? task.Target,
                        task.Priority,
                        w.Now,
                        $"A human answered an escalation: {answer}"
                    );
                }
                return await RequireAsync(w, taskId);
            },
            ct
        );
    }

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
                        new { taskId }
                    )
                )
                {
                    await StateMachine.MoveRunAsync(
                        w,
                        run.Id,
                        RunStates.Cancelled,
                        "run.cancelled",
                        new { reason },
                        closeReason: $"task cancelled: {reason}"
                    );
                    if (run.Workspace is { } ws)
                        workspaces.Add(ws);
                }
                var checkouts = await w.QueryAsync<string>(
                    """
                    SELECT checkout FROM verifications WHERE state = 'claimed' AND checkout IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE task_id = @taskId)
                    """,
                    new { taskId }
                );
                workspaces.AddRange(checkouts);
                await w.ExecuteAsync(
                    "UPDATE verifications SET state = 'cancelled', closed_at = @now WHERE state = 'claimed' AND run_id IN (SELECT id FROM runs WHERE task_id = @taskId)",
                    new { now = w.NowText, taskId }
                );
                await w.ExecuteAsync("DELETE FROM queue WHERE task_id = @taskId", new { taskId });
                await StateMachine.MoveTaskAsync(w, taskId, TaskStates.Cancelled, "task.cancelled", new { reason });
                return (await RequireAsync(w, taskId), (IReadOnlyList<string>)workspaces);
            },
            ct
        );
    }
}
