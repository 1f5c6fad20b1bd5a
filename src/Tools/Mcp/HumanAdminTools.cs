using System.ComponentModel;
using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Shipping;
using FactoryMcp.Tools.Signals;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>
/// The rest of the CLI's ledger-changing commands for a human over MCP: revoking agents, signal intake,
/// lines and publishing (README, "Humans over MCP").
/// </summary>
[McpServerToolType]
internal sealed class HumanAdminTools(
    AgentRegistry agents,
    SignalIntake intake,
    Publisher publisher,
    LedgerPaths paths,
    Caller caller
)
{
    // Adding an agent stays on the machine (`factory agent add`): it mints a credential, printed once to the
    // person at the terminal, which an MCP result would put into a model's context and logs.
    [McpServerTool(Destructive = true, OpenWorld = false)]
    [Description("Revoke an agent: its token stops working and it leaves its pools.")]
    public async Task<CallToolResult> RevokeAgentAsync(string name, CancellationToken ct = default)
    {
        RequireHuman();
        await agents.RevokeAsync(caller.Actor, name, ct);
        return ToolReply.Of(
            new JsonObject { ["name"] = name, ["revoked"] = true },
            $"Revoked {name}: its token no longer works."
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description(
        "Record signals, drafting proposals by line template. format github: `gh issue list --json number,title,body,labels,url,author,createdAt` output; jsonl: an object a line."
    )]
    public async Task<CallToolResult> IngestSignalsAsync(string format, string content, CancellationToken ct = default)
    {
        RequireHuman();
        var inputs = format switch
        {
            "github" => SignalFiles.ReadGitHub(content, "content"),
            "jsonl" => SignalFiles.ReadJsonl(content, "content"),
            _ => throw new LedgerException($"format '{format}' is not github or jsonl; nothing was recorded."),
        };
        var text = new StringBuilder();
        var items = new JsonArray();
        foreach (var input in inputs)
        {
            var outcome = await intake.IngestAsync(caller.Actor, input, ct);
            var s = outcome.Signal;
            text.AppendLine(
                $"- signal {s.Id} {s.Key} {(outcome.Created ? "new" : "known")} [{s.Status}]{(outcome.Task is { } t ? $" task {t.Id} ({t.State})" : "")}"
                    + (
                        outcome.Duplicates.Count > 0
                            ? $", possible duplicate of {outcome.Duplicates[0].Describe()}"
                            : ""
                    )
            );
            items.Add(
                (JsonNode?)
                    new JsonObject
                    {
                        ["signal_id"] = s.Id,
                        ["key"] = s.Key,
                        ["created"] = outcome.Created,
                        ["status"] = s.Status,
                        ["task_id"] = outcome.Task?.Id,
                        ["task_state"] = outcome.Task?.State,
                        ["duplicates"] = outcome.Duplicates.Count,
                    }
            );
        }
        return ToolReply.Of(new JsonObject { ["signals"] = items }, text.ToString());
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description(
        "Set line keys in lines.yaml as KEY=VALUE, YAML values (max_attempts=2). Approved tasks keep their frozen settings."
    )]
    public CallToolResult SetLine(string name, string[] settings)
    {
        RequireHuman();
        var catalog = LineFile.Set(paths.LinesConfig, name, settings);
        return ToolReply.Of(
            new JsonObject { ["line"] = name, ["lines"] = Json.Array(catalog.Lines.Keys) },
            $"Line {name} updated in lines.yaml:\n{catalog.ToYaml()}"
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = true, Idempotent = true)]
    [Description("Push an approved run's reviewed SHA to branch factory/TASK-RUN; opens a draft PR with gh if it can.")]
    public async Task<CallToolResult> PublishRunAsync(long run_id, CancellationToken ct = default)
    {
        var result = await publisher.PublishAsync(caller, run_id, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["run_id"] = result.RunId,
                ["sha"] = result.Sha,
                ["branch"] = result.Branch,
                ["pr_url"] = result.PrUrl,
            },
            result.Message
        );
    }

    private void RequireHuman()
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human does this.");
    }
}
