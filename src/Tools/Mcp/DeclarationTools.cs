using System.ComponentModel;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Tools.Gate;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class DeclarationTools(DeclarationService gate, Caller caller)
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
        var result = await gate.DeclareAsync(
            caller,
            new DeclarationInput(run_id, state, summary, reason, question, head_commit, residual_risk),
            ct
        );
        return ToolReply.Of(
            result,
            $"{result.Message} (run {result.RunId}: {result.RunState}; task: {result.TaskState})"
        );
    }
}
