using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Escalations;

/// <summary>
/// Escalations: a task that needs a human's decision holds a durable question (raised by ESCALATE, by an
/// exhausted budget, or by a verifier's needs_human); a human answers it with requeue or cancel.
/// </summary>
public sealed class EscalationLedger(LedgerDatabase db)
{
    private static long raisedInProcess;

    /// <summary>
    /// Escalations this process has written so far (counted as written, before their commit; a rolled-back one still
    /// counts): a tool call across which it moved raised one, and announces it at once (Notifier.AfterCallAsync).
    /// </summary>
    public static long RaisedInProcess => Interlocked.Read(ref raisedInProcess);

    /// <summary>Moves a task to escalated and records the durable question a human answers.</summary>
    internal static async Task RaiseAsync(LedgerWrite w, long taskId, long? runId, string question)
    {
        Interlocked.Increment(ref raisedInProcess);
        await StateMachine.MoveTaskAsync(
            w,
            taskId,
            TaskStates.Escalated,
            "task.escalated",
            new JsonObject { ["run_id"] = runId, ["question"] = question }
        );
        await w.ExecuteAsync(
            """
            INSERT INTO escalations (task_id, run_id, question, raised_by, raised_at) VALUES (@taskId, @runId, @question, @actor, @now)
            """,
            SqlArgs.Of(
                new
                {
                    taskId,
                    runId,
                    question,
                    actor = w.Actor,
                    now = w.NowText,
                }
            )
        );
    }

    /// <summary>Escalations waiting for a human's answer, with their tasks' titles, for the dashboard and the CLI.</summary>
    public async Task<IReadOnlyList<EscalationSummary>> ListOpenAsync(CancellationToken ct = default) =>
        (
            await db.QueryAsync<EscalationSummary>(
                EscalationSummary.Select + " WHERE e.answer IS NULL ORDER BY e.id",
                ct: ct
            )
        ).ToList();

    /// <summary>A task's answered escalations, oldest first, as question and answer: part of every packet handed over (a prepared read).</summary>
    public Task<IReadOnlyList<(string Question, string Answer)>> AnswersAsync(
        long taskId,
        CancellationToken ct = default
    ) =>
        db.ReadPreparedAsync<IReadOnlyList<(string, string)>>(
            async c =>
            {
                const string sql =
                    "SELECT question, answer FROM escalations WHERE task_id = @taskId AND answer IS NOT NULL ORDER BY id";
                var answers = new List<(string, string)>();
                await using var reader = await c.Bind(sql, null, ("taskId", taskId)).ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    answers.Add((reader.GetString(0), reader.GetString(1)));
                return answers;
            },
            ct
        );

    public async Task<IReadOnlyList<EscalationRow>> ForTaskAsync(long taskId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<EscalationRow>(
                EscalationRow.Select + " WHERE task_id = @taskId ORDER BY id",
                SqlArgs.Of(new { taskId }),
                ct
            )
        ).ToList();

    /// <summary>
    /// Answers a task's open escalation. requeue: the task is ready again (attempt and rework budgets
    /// start afresh, the answer reaches the next packet, work continues from the last head); cancel: it ends.
    /// </summary>
    public async Task<TaskRow> AnswerAsync(
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
                var task = await TaskLedger.RequireAsync(w, taskId);
                if (task.State != TaskStates.Escalated)
                    throw new LedgerException(
                        $"Task {taskId} is {task.State}, not escalated; there is nothing to answer."
                    );
                var open = await w.SingleOrDefaultAsync<EscalationRow>(
                    EscalationRow.Select + " WHERE task_id = @taskId AND answer IS NULL ORDER BY id DESC LIMIT 1",
                    SqlArgs.Of(new { taskId })
                );
                if (open is not null)
                {
                    await w.ExecuteAsync(
                        "UPDATE escalations SET answer = @answer, action = @action, answered_by = @by, answered_at = @now WHERE task_id = @taskId AND answer IS NULL",
                        SqlArgs.Of(
                            new
                            {
                                answer,
                                action,
                                by = caller.Name,
                                now = w.NowText,
                                taskId,
                            }
                        )
                    );
                }
                var latest = await w.SingleOrDefaultAsync<RunRow>(
                    RunRow.Select + " WHERE r.task_id = @taskId ORDER BY r.id DESC LIMIT 1",
                    SqlArgs.Of(new { taskId })
                );
                if (action == "cancel")
                {
                    await StateMachine.MoveTaskAsync(
                        w,
                        taskId,
                        TaskStates.Cancelled,
                        "task.escalation_answered",
                        new JsonObject
                        {
                            ["escalation_id"] = open?.Id,
                            ["action"] = action,
                            ["answer"] = answer,
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
                            new JsonObject { ["by"] = "escalation answer" },
                            closeReason: "superseded after an escalation was answered"
                        );
                    await w.ExecuteAsync(
                        "UPDATE tasks SET attempts = 0, reworks = 0 WHERE id = @taskId",
                        SqlArgs.Of(new { taskId })
                    );
                    await StateMachine.MoveTaskAsync(
                        w,
                        taskId,
                        TaskStates.Ready,
                        "task.escalation_answered",
                        new JsonObject
                        {
                            ["escalation_id"] = open?.Id,
                            ["action"] = action,
                            ["answer"] = answer,
                        }
                    );
                    await TaskLedger.EnqueueAsync(
                        w,
                        taskId,
                        latest?.QueueTarget ?? task.Target,
                        task.Priority,
                        w.Now,
                        $"A human answered an escalation: {answer}"
                    );
                }
                return await TaskLedger.RequireAsync(w, taskId);
            },
            ct
        );
    }
}
