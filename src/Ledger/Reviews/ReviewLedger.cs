using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Reviews;

public sealed record ReviewRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required string Outcome { get; init; }
    public required string Feedback { get; init; }
    public required string Reviewer { get; init; }
    public string? ReviewedSha { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal const string Select = """
        SELECT id AS Id, run_id AS RunId, outcome AS Outcome, feedback AS Feedback, reviewer AS Reviewer, reviewed_sha AS ReviewedSha, created_at AS CreatedAt FROM reviews
        """;
}

public static class ReviewOutcomes
{
    public const string Approve = "approve";
    public const string ChangesRequested = "changes_requested";
    public const string Reject = "reject";

    public static readonly IReadOnlyList<string> All = [Approve, ChangesRequested, Reject];
}

/// <summary>
/// Human review of a run awaiting it (DESIGN section 3): approve (the reviewed SHA is recorded for
/// shipping), changes_requested (rework from this head, carrying the feedback), or reject (the task ends).
/// </summary>
public sealed class ReviewLedger(LedgerDatabase db)
{
    public async Task<(ReviewRow Review, string TaskState)> RecordAsync(
        Caller caller,
        long runId,
        string outcome,
        string feedback,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human records a review.");
        outcome = (outcome ?? "").Trim().ToLowerInvariant().Replace('-', '_');
        if (!ReviewOutcomes.All.Contains(outcome))
            throw new LedgerException(
                $"Review outcome '{outcome}' is not one of {string.Join(", ", ReviewOutcomes.All)}."
            );
        if (outcome != ReviewOutcomes.Approve && string.IsNullOrWhiteSpace(feedback))
            throw new LedgerException(
                $"{outcome} needs feedback: it is what the builder (or the record) learns from this review."
            );
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var run =
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select + " WHERE r.id = @runId",
                        SqlArgs.Of(new { runId })
                    ) ?? throw new LedgerException($"There is no run {runId}.");
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var latest = await w.ScalarAsync<long>(
                    "SELECT max(id) FROM runs WHERE task_id = @taskId",
                    SqlArgs.Of(new { taskId = task.Id })
                );
                if (task.State != TaskStates.AwaitingReview || latest != runId)
                    throw new LedgerException(
                        $"Run {runId} is not awaiting review (task {task.Id} is {task.State}{(latest != runId ? $"; its latest run is {latest}" : "")})."
                    );
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO reviews (run_id, outcome, feedback, reviewer, reviewed_sha, created_at) VALUES (@runId, @outcome, @feedback, @reviewer, @sha, @now) RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            runId,
                            outcome,
                            feedback = feedback ?? "",
                            reviewer = caller.Name,
                            sha = run.HeadSha,
                            now = w.NowText,
                        }
                    )
                );
                await w.AuditAsync(
                    "review.recorded",
                    "run",
                    runId,
                    new JsonObject
                    {
                        ["review_id"] = id,
                        ["outcome"] = outcome,
                        ["reviewed_sha"] = run.HeadSha,
                    }
                );
                if (!string.IsNullOrWhiteSpace(feedback))
                    await LessonLedger.AddFeedbackAsync(
                        w,
                        task.Id,
                        runId,
                        "review",
                        $"[review {outcome}] {feedback}",
                        caller.Name
                    );
                string state;
                switch (outcome)
                {
                    case ReviewOutcomes.Approve:
                        state = run.State == RunStates.NoOp ? TaskStates.NoOp : TaskStates.Approved;
                        await StateMachine.MoveTaskAsync(
                            w,
                            task.Id,
                            state,
                            "task.reviewed",
                            new JsonObject
                            {
                                ["run_id"] = runId,
                                ["outcome"] = outcome,
                                ["reviewed_sha"] = run.HeadSha,
                            }
                        );
                        break;
                    case ReviewOutcomes.ChangesRequested:
                        state = await Requeue.ForReworkAsync(w, run, task, $"reviewer {caller.Name}", feedback!);
                        break;
                    default:
                        state = TaskStates.Rejected;
                        await StateMachine.MoveTaskAsync(
                            w,
                            task.Id,
                            state,
                            "task.reviewed",
                            new JsonObject { ["run_id"] = runId, ["outcome"] = outcome }
                        );
                        break;
                }
                return (
                    (
                        await w.SingleOrDefaultAsync<ReviewRow>(
                            ReviewRow.Select + " WHERE id = @id",
                            SqlArgs.Of(new { id })
                        )
                    )!,
                    state
                );
            },
            ct
        );
    }

    public async Task<IReadOnlyList<ReviewRow>> ForRunAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<ReviewRow>(
                ReviewRow.Select + " WHERE run_id = @runId ORDER BY id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();
}
