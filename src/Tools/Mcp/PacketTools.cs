using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Runs;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class PacketTools(PacketService packets, Caller caller)
{
    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description(
        "Get your work. Returns the run you hold (safe after a restart); otherwise claims the next task queued for you or your pools and opens a run with a prepared workspace. With task_id: read that packet only. 'Queue empty' is a normal result."
    )]
    public async Task<CallToolResult> GetTaskPacketAsync(
        [Description("Read this task's packet instead of claiming.")] long? task_id = null,
        [Description("Open another run even though you hold one.")] bool @new = false,
        CancellationToken ct = default
    )
    {
        var view = await packets.GetTaskPacketAsync(caller, task_id, @new, ct);
        // A kept packet is given again as the same view while nothing changed (PacketService): shaped once.
        if (view.Kept)
        {
            var shaped = Replies.GetValue(
                view,
                static v => new Shaped(ToolReply.Element(Structured(v)), v.ToMarkdown())
            );
            return ToolReply.Of(shaped.Structured, shaped.Text);
        }
        return ToolReply.Of(Structured(view), view.ToMarkdown());
    }

    private static readonly ConditionalWeakTable<PacketView, Shaped> Replies = new();

    private sealed record Shaped(JsonElement Structured, string Text);

    private static JsonObject Structured(PacketView view) =>
        new JsonObject
        {
            ["status"] = view.Status,
            ["kind"] = view.Kind,
            ["run_id"] = view.RunId,
            ["task_id"] = view.TaskId,
            ["workspace"] = view.Workspace,
            ["base_sha"] = view.BaseSha,
            ["run_ref"] = view.RunRef,
            ["clone_url"] = view.CloneUrl,
            ["lease_expires_at"] = view.LeaseExpiresAt,
            ["evidence_required"] = Json.Array(view.EvidenceRequired),
            ["signal_id"] = view.Spec?.Signal.Id,
        };
}
