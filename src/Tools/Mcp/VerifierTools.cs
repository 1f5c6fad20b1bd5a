using System.ComponentModel;
using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Notifications;
using FactoryMcp.Tools.Verification;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class VerifierTools(
    VerifierPacketService packets,
    VerificationLedger verifications,
    RunLedger runs,
    Workspaces workspaces,
    Notifier notifier,
    Pulls.PullVerifications pulls,
    Caller caller
)
{
    [McpServerTool(Name = "get_task_packet", Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description(
        "Get the next run awaiting your verifier role (or the one you hold): the task packet, the server-computed diff and validation, and a read-only tree at head. You judge the artifact alone. 'Queue empty' is normal."
    )]
    public async Task<CallToolResult> GetVerificationAsync(CancellationToken ct = default)
    {
        var packet = await packets.GetAsync(caller, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["status"] = packet.Status,
                ["kind"] = "verify",
                ["run_id"] = packet.RunId,
                ["task_id"] = packet.TaskId,
                ["role"] = packet.Role,
                ["workspace"] = packet.Checkout,
                ["head_sha"] = packet.HeadSha,
                ["base_sha"] = packet.BaseSha,
                ["lease_expires_at"] = packet.LeaseExpiresAt,
                ["diff_pages"] = packet.DiffPages,
            },
            packet.Markdown
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description(
        "Record your verdict on the run you hold for your role: approve, reject (sends it back to its builder with your findings) or needs_human. Findings say what you checked and found."
    )]
    public async Task<CallToolResult> SubmitVerdictAsync(
        long run_id,
        [Description("approve, reject or needs_human.")] string verdict,
        string findings,
        CancellationToken ct = default
    )
    {
        var receipt = await verifications.SubmitVerdictAsync(caller, run_id, verdict, findings, ct);
        foreach (var folder in await verifications.FinishedCheckoutsAsync(caller, run_id, ct))
            workspaces.Remove(folder);
        var run = await runs.GetAsync(run_id, ct);
        await notifier.AfterTaskStateAsync(run.TaskId, run_id, receipt.TaskState, CancellationToken.None);
        // A pull request's verification: its verdicts go back as a comment (or the reason they could not).
        if (await pulls.AfterVerdictAsync(run.TaskId, receipt.TaskState, CancellationToken.None) is { } comment)
            receipt = receipt with { Message = $"{receipt.Message} Comment: {comment}." };
        return ToolReply.Of(receipt, ToolsJson.Default.VerdictReceipt, receipt.Message);
    }

    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description("All verdicts on a run. Refused until your own verdict on it is committed.")]
    public async Task<CallToolResult> GetVerdictsAsync(long run_id, CancellationToken ct = default)
    {
        var verdicts = await verifications.VerdictsAsync(caller, run_id, ct);
        var text = new StringBuilder();
        foreach (var v in verdicts)
            text.AppendLine($"- {v.Role}: {v.Verdict} — {v.Findings}");
        return ToolReply.Of(
            new JsonObject
            {
                ["run_id"] = run_id,
                ["verdicts"] = Json.Array(
                    verdicts.Select(v => (JsonNode?)new JsonObject { ["role"] = v.Role, ["verdict"] = v.Verdict })
                ),
            },
            text.ToString()
        );
    }
}
