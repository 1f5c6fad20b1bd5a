using System.ComponentModel;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Funnel;
using FactoryMcp.Tools.Shipping;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class HumanShippingTools(ShipService ship, FunnelLedger funnel, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description("Record that a run's change reached users; sha must be the reviewed SHA. Once per run.")]
    public async Task<CallToolResult> MarkShippedAsync(
        long run_id,
        string sha,
        string? pr_url = null,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human marks a change shipped.");
        var (shipped, created) = await ship.ShipAsync(caller.Actor, run_id, sha, "mark_shipped", pr_url, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["event_id"] = shipped.Id,
                ["run_id"] = run_id,
                ["sha"] = shipped.Sha,
                ["environment"] = shipped.Environment,
                ["created"] = created,
            },
            created
                ? $"Shipped event {shipped.Id} recorded ({shipped.Environment})."
                : $"Run {run_id} already shipped as event {shipped.Id}."
        );
    }

    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description(
        "The funnel from signals to drafts: rates, median times, utilization, cost, bridge coverage; test figures apart."
    )]
    public async Task<CallToolResult> FunnelReportAsync(CancellationToken ct = default)
    {
        var report = await funnel.ReportAsync(ct);
        return ToolReply.Of(report, ToolsJson.Default.FunnelReport, Funnel.FunnelText.Render(report));
    }
}
