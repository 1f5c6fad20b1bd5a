using System.ComponentModel;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class EvidenceTools(EvidenceLedger evidence, ConfigFiles config, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description(
        "Attach evidence to the run you hold: plan, reproduction, log, screenshot, trace, pr_link, post_run_note, cost, or a kind your line declares. The server records diff and test output itself. Renews your lease."
    )]
    public async Task<CallToolResult> RecordEvidenceAsync(
        long run_id,
        [Description("Evidence kind.")] string kind,
        [Description("One or two sentences: what this shows.")] string summary,
        [Description("The evidence text.")] string? content = null,
        [Description("Or a file path inside your workspace.")] string? file = null,
        [Description("scout, build, verify, package or review.")] string? stage = null,
        [Description("Retry-safe key; a repeat returns the first result.")] string? idempotency_key = null,
        CancellationToken ct = default
    )
    {
        var receipt = await evidence.RecordEvidenceAsync(
            caller,
            new EvidenceInput(run_id, kind, summary, content, file, stage),
            config.Lines,
            idempotency_key,
            ct
        );
        var owed =
            receipt.StillRequired.Count == 0
                ? "no further evidence is required"
                : "still required: " + string.Join(", ", receipt.StillRequired);
        return ToolReply.Of(
            receipt,
            ToolsJson.Default.EvidenceReceipt,
            $"Recorded {receipt.Kind} evidence {receipt.EvidenceId} on run {receipt.RunId}; {owed}. Lease until {receipt.LeaseExpiresAt}."
        );
    }
}
