using System.ComponentModel;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Tools.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class HumanJudgmentTools(
    ReviewLedger reviews,
    TaskIntake intake,
    EscalationLedger escalations,
    LessonLedger lessons,
    Caller caller
)
{
    [McpServerTool(Destructive = false, OpenWorld = false)]
    [Description(
        "Review a run awaiting review: outcome approve (its SHA may ship), changes_requested (rework with your feedback) or reject (task ends)."
    )]
    public async Task<CallToolResult> RecordReviewAsync(
        long run_id,
        string outcome,
        string feedback = "",
        CancellationToken ct = default
    )
    {
        var (review, state) = await reviews.RecordAsync(caller, run_id, outcome, feedback, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["review_id"] = review.Id,
                ["run_id"] = run_id,
                ["outcome"] = review.Outcome,
                ["task_state"] = state,
                ["reviewed_sha"] = review.ReviewedSha,
            },
            $"Review recorded ({review.Outcome}); the task is now {state}."
        );
    }

    [McpServerTool(Destructive = true, OpenWorld = false)]
    [Description("Cancel an unfinished task: revokes its lease, frees its workspace, dequeues it.")]
    public async Task<CallToolResult> CancelTaskAsync(long task_id, string reason, CancellationToken ct = default)
    {
        var task = await intake.CancelAsync(caller, task_id, reason, ct);
        return ToolReply.Of(
            new JsonObject { ["task_id"] = task.Id, ["state"] = task.State },
            $"Task {task.Id} cancelled."
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false)]
    [Description("Answer an escalated task; action requeue (the answer reaches the next packet) or cancel.")]
    public async Task<CallToolResult> AnswerEscalationAsync(
        long task_id,
        string answer,
        string action = "requeue",
        CancellationToken ct = default
    )
    {
        var task = await escalations.AnswerAsync(caller, task_id, answer, action, ct);
        return ToolReply.Of(
            new JsonObject { ["task_id"] = task.Id, ["state"] = task.State },
            $"Escalation answered; task {task.Id} is {task.State}."
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false)]
    [Description(
        "Turn feedback (list_records kind feedback) into a lesson that later packets of its line carry; text rewords it."
    )]
    public async Task<CallToolResult> PromoteLessonAsync(
        long feedback_id,
        string? text = null,
        CancellationToken ct = default
    )
    {
        var lesson = await lessons.PromoteAsync(caller, feedback_id, text, ct);
        return ToolReply.Of(
            new JsonObject { ["lesson_id"] = lesson.Id, ["line"] = lesson.Line },
            $"Lesson {lesson.Id} added to line {lesson.Line}: {lesson.Text}"
        );
    }

    [McpServerTool(Destructive = true, OpenWorld = false)]
    [Description("Retire a lesson: later packets no longer carry it.")]
    public async Task<CallToolResult> RetireLessonAsync(long lesson_id, CancellationToken ct = default)
    {
        var lesson = await lessons.RetireAsync(caller, lesson_id, ct);
        return ToolReply.Of(
            new JsonObject { ["lesson_id"] = lesson.Id, ["line"] = lesson.Line },
            $"Lesson {lesson.Id} of line {lesson.Line} retired; later packets no longer carry it."
        );
    }
}
