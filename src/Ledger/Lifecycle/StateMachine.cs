using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Lifecycle;

/// <summary>
/// The one place every task and run transition goes through: it checks the edge against DESIGN
/// section 3, applies it only if nobody changed the row meanwhile, and appends the audit record in the
/// same transaction.
/// </summary>
public static class StateMachine
{
    private static readonly Dictionary<string, string[]> TaskEdges = new()
    {
        [TaskStates.Proposed] = [TaskStates.Ready, TaskStates.Rejected, TaskStates.Cancelled],
        [TaskStates.Ready] = [TaskStates.Running, TaskStates.Cancelled],
        [TaskStates.Running] =
        [
            TaskStates.Validating,
            TaskStates.Ready,
            TaskStates.NoOp,
            TaskStates.Escalated,
            TaskStates.AwaitingReview,
            TaskStates.Cancelled,
            TaskStates.Specced,
        ],
        [TaskStates.Validating] =
        [
            TaskStates.Running,
            TaskStates.AwaitingVerification,
            TaskStates.AwaitingReview,
            TaskStates.Approved,
            TaskStates.NoOp,
            TaskStates.Escalated,
            TaskStates.Cancelled,
        ],
        [TaskStates.AwaitingVerification] =
        [
            TaskStates.AwaitingReview,
            TaskStates.Approved,
            // A pull request's verification-only job, once every role has spoken (README, "Opened pull requests").
            TaskStates.NoOp,
            TaskStates.Ready,
            TaskStates.Escalated,
            TaskStates.Cancelled,
        ],
        [TaskStates.AwaitingReview] =
        [
            TaskStates.Approved,
            TaskStates.Ready,
            TaskStates.Rejected,
            TaskStates.NoOp,
            TaskStates.Escalated,
            TaskStates.Cancelled,
        ],
        [TaskStates.Approved] = [TaskStates.Shipped, TaskStates.Cancelled],
        [TaskStates.Escalated] = [TaskStates.Ready, TaskStates.Cancelled],
        [TaskStates.Shipped] = [],
        [TaskStates.NoOp] = [],
        [TaskStates.Cancelled] = [],
        [TaskStates.Rejected] = [],
        [TaskStates.Specced] = [],
    };

    private static readonly Dictionary<string, string[]> RunEdges = new()
    {
        [RunStates.Open] =
        [
            RunStates.Validating,
            RunStates.NoOp,
            RunStates.Escalated,
            RunStates.Failed,
            RunStates.Expired,
            RunStates.HandedOff,
            RunStates.Cancelled,
        ],
        [RunStates.Validating] =
        [
            RunStates.Accepted,
            RunStates.Open,
            RunStates.NoOp,
            RunStates.Cancelled,
            RunStates.Escalated,
        ],
        [RunStates.Accepted] = [RunStates.Superseded, RunStates.Cancelled],
        [RunStates.NoOp] = [RunStates.Superseded],
        [RunStates.Escalated] = [],
        [RunStates.Failed] = [],
        [RunStates.Expired] = [],
        [RunStates.Superseded] = [],
        [RunStates.HandedOff] = [],
        [RunStates.Cancelled] = [],
    };

    public static bool CanMoveTask(string from, string to) =>
        TaskEdges.TryGetValue(from, out var next) && next.Contains(to);

    public static bool CanMoveRun(string from, string to) =>
        RunEdges.TryGetValue(from, out var next) && next.Contains(to);

    /// <summary>
    /// A spec run has no diff to validate: its answer (a proposed packet) takes it from open straight to
    /// accepted. Build runs reach accepted only through validation.
    /// </summary>
    public static bool CanMoveRun(string from, string to, string kind) =>
        CanMoveRun(from, to) || (kind == Runs.RunLedger.SpecKind && from == RunStates.Open && to == RunStates.Accepted);

    /// <summary>Moves a task to <paramref name="to"/>; refuses an edge DESIGN section 3 does not allow.</summary>
    public static async Task<string> MoveTaskAsync(
        LedgerWrite write,
        long taskId,
        string to,
        string action,
        JsonObject? details = null
    )
    {
        var from =
            await write.SingleOrDefaultAsync<string>(
                "SELECT state FROM tasks WHERE id = @taskId",
                SqlArgs.Of(new { taskId })
            )
            ?? throw new LedgerException(
                $"There is no task {taskId}; check the id (`factory board` lists open tasks)."
            );
        if (!CanMoveTask(from, to))
            throw new LedgerException(
                $"Task {taskId} is {from} and cannot become {to} ({action}). {Hint(TaskEdges, from)}"
            );
        const string sql = """
            UPDATE tasks SET state = @to, updated_at = @now WHERE id = @taskId AND state = @from
            """;
        var changed = await write.ExecuteAsync(
            sql,
            SqlArgs.Of(
                new
                {
                    to,
                    now = write.NowText,
                    taskId,
                    from,
                }
            )
        );
        if (changed != 1)
            throw new LedgerException($"Task {taskId} changed while this request ran; read it again and retry.");
        await write.AuditAsync(
            action,
            "task",
            taskId,
            new JsonObject
            {
                ["from"] = from,
                ["state"] = to,
                ["details"] = details,
            }
        );
        return from;
    }

    /// <summary>Moves a run to <paramref name="to"/>; closing states stamp <c>closed_at</c>.</summary>
    public static async Task<string> MoveRunAsync(
        LedgerWrite write,
        long runId,
        string to,
        string action,
        JsonObject? details = null,
        string? closeReason = null
    )
    {
        // A missing run reads as the default tuple (null state).
        var row = await write.SingleOrDefaultAsync<(string? State, string Kind)>(
            "SELECT state, kind FROM runs WHERE id = @runId",
            SqlArgs.Of(new { runId })
        );
        if (row.State is null)
            throw new LedgerException($"There is no run {runId}.");
        var from = row.State;
        if (!CanMoveRun(from, to, row.Kind))
            throw new LedgerException(
                $"Run {runId} is {from} and cannot become {to} ({action}). {Hint(RunEdges, from)}"
            );
        var closes = !RunStates.IsLive(to);
        const string sql = """
            UPDATE runs
            SET state = @to,
                closed_at = CASE WHEN @closes THEN @now ELSE closed_at END,
                terminal_state = CASE WHEN @closes THEN @to ELSE terminal_state END,
                close_reason = COALESCE(@closeReason, close_reason)
            WHERE id = @runId AND state = @from
            """;
        var changed = await write.ExecuteAsync(
            sql,
            SqlArgs.Of(
                new
                {
                    to,
                    closes,
                    now = write.NowText,
                    closeReason,
                    runId,
                    from,
                }
            )
        );
        if (changed != 1)
            throw new LedgerException($"Run {runId} changed while this request ran; read it again and retry.");
        await write.AuditAsync(
            action,
            "run",
            runId,
            new JsonObject
            {
                ["from"] = from,
                ["state"] = to,
                ["details"] = details,
            }
        );
        return from;
    }

    private static string Hint(Dictionary<string, string[]> edges, string from) =>
        edges.TryGetValue(from, out var next) && next.Length > 0
            ? $"From {from} it can become: {string.Join(", ", next)}."
            : $"{from} is final.";
}
