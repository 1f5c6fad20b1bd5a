using System.ComponentModel;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Signals;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>A human's decisions on drafts and signals (tasks, reviews and lessons have their own tools).</summary>
[McpServerToolType]
internal sealed class HumanDecisionTools(DraftLedger drafts, SignalLedger signals, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description("Set a draft's decision: approve, reject or reset (back to drafted). Nothing is published.")]
    public async Task<CallToolResult> DecideDraftAsync(long draft_id, string decision, CancellationToken ct = default)
    {
        var status = decision switch
        {
            "approve" => "approved",
            "reject" => "rejected",
            "reset" => "drafted",
            _ => throw new LedgerException($"decision '{decision}' is not approve, reject or reset; nothing changed."),
        };
        var draft = await drafts.DecideAsync(caller, draft_id, status, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["draft_id"] = draft.Id,
                ["event_id"] = draft.EventId,
                ["status"] = draft.Status,
            },
            $"Draft {draft.Id} ({draft.Kind} of event {draft.EventId}) is {draft.Status}."
        );
    }

    [McpServerTool(Destructive = true, OpenWorld = false)]
    [Description("Close a signal no task came from (new, unrouted, invalid), with the reason.")]
    public async Task<CallToolResult> DismissSignalAsync(long signal_id, string reason, CancellationToken ct = default)
    {
        var signal = await signals.DismissAsync(caller, signal_id, reason, ct);
        return ToolReply.Of(
            new JsonObject { ["signal_id"] = signal.Id, ["status"] = signal.Status },
            $"Signal {signal.Id} ({signal.Key}) dismissed."
        );
    }
}
