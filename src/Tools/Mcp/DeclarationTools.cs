using System.ComponentModel;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Mcp.TaskViews;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class DeclarationTools(
    DeclarationService gate,
    Caller caller,
    RequestContext<CallToolRequestParams>? request = null
)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description(
        "Finish your run. PR_READY: the server validates your work itself (snapshotting the workspace if head_commit is omitted); if it answers 'validating', call again with the same arguments. NO_OP needs reason (a code) and one evidence item; ESCALATE needs question; RETRYABLE_FAILURE needs reason. A refusal lists every unmet condition: fix them and declare again."
    )]
    public async Task<CallToolResult> DeclareTerminalStateAsync(
        long run_id,
        [Description("PR_READY, NO_OP, ESCALATE or RETRYABLE_FAILURE.")] string state,
        [Description("What you did or found.")] string summary,
        [Description("NO_OP code or failure detail.")] string? reason = null,
        [Description("For ESCALATE: what a human must decide.")] string? question = null,
        [Description("Full SHA of your head commit.")] string? head_commit = null,
        [Description("What could still go wrong.")] string? residual_risk = null,
        CancellationToken ct = default
    )
    {
        var input = new DeclarationInput(run_id, state, summary, reason, question, head_commit, residual_risk);
        if (request is null || TaskFormats.Requested(request.JsonRpcRequest.Params) == TaskFormat.None)
            return Reply(await gate.DeclareAsync(caller, input, ct));
        // A client that takes tasks gets the validation job itself (TaskHandlers turns it into a task handle).
        var start = await gate.StartAsync(caller, input, ct);
        if (start.Job is { } job)
            request.Items[TaskHandlers.JobKey] = job;
        return start.Decided is { } decided
            ? Reply(decided)
            : ToolReply.Of(
                new JsonObject { ["run_id"] = run_id, ["job_id"] = start.Job!.Id },
                $"Validating (job {start.Job.Id})."
            );
    }

    /// <summary>The one shape of a declaration's answer, for the blocking call and for a task's result alike.</summary>
    internal static CallToolResult Reply(DeclarationResult result) =>
        ToolReply.Of(
            result,
            ToolsJson.Default.DeclarationResult,
            $"{result.Message} (run {result.RunId}: {result.RunState}; task: {result.TaskState})"
        );
}
