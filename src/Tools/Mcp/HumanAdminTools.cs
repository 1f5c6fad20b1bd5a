using System.ComponentModel;
using System.Text;
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
/// The rest of the CLI's ledger-changing commands for a human over MCP: agents, signal intake, lines and
/// publishing (README, "Humans over MCP").
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
    [McpServerTool(Destructive = true, OpenWorld = false, Idempotent = false)]
    [Description(
        "add: register an agent (role agent, verifier with verifier_role, or human; pools); its token is returned once. revoke: its token stops working."
    )]
    public async Task<CallToolResult> ManageAgentAsync(
        string name,
        [Description("add or revoke.")] string action,
        string role = Roles.Agent,
        string? verifier_role = null,
        string[]? pools = null,
        CancellationToken ct = default
    )
    {
        RequireHuman();
        if (action == "revoke")
        {
            await agents.RevokeAsync(caller.Actor, name, ct);
            return ToolReply.Of(new { name, revoked = true }, $"Revoked {name}: its token no longer works.");
        }
        if (action != "add")
            throw new LedgerException($"action '{action}' is not add or revoke; nothing changed.");
        var (row, token) = await agents.AddAsync(caller.Actor, name, role, verifier_role, pools ?? [], ct);
        return ToolReply.Of(
            new
            {
                name = row.Name,
                row.Role,
                verifier_role = row.VerifierRole,
                token,
            },
            $"Registered {row.Name} as {row.Role}. Its token, shown only now: {token}"
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description(
        "Record signals and draft proposals from their line's template. format github: the JSON of `gh issue list --json number,title,body,labels,url,author,createdAt`; jsonl: one object per line. Known signals add nothing."
    )]
    public async Task<CallToolResult> IngestSignalsAsync(
        [Description("github or jsonl.")] string format,
        string content,
        CancellationToken ct = default
    )
    {
        RequireHuman();
        var inputs = format switch
        {
            "github" => SignalFiles.ReadGitHub(content, "content"),
            "jsonl" => SignalFiles.ReadJsonl(content, "content"),
            _ => throw new LedgerException($"format '{format}' is not github or jsonl; nothing was recorded."),
        };
        var text = new StringBuilder();
        var items = new List<object>();
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
                new
                {
                    signal_id = s.Id,
                    s.Key,
                    outcome.Created,
                    s.Status,
                    task_id = outcome.Task?.Id,
                    task_state = outcome.Task?.State,
                    duplicates = outcome.Duplicates.Count,
                }
            );
        }
        return ToolReply.Of(new { signals = items }, text.ToString());
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = true)]
    [Description(
        "Set keys of a line in lines.yaml: KEY=VALUE, values in YAML (max_attempts=2, verifiers=[qa]). Tasks approved earlier keep their frozen settings."
    )]
    public CallToolResult SetLine(string name, string[] settings)
    {
        RequireHuman();
        var catalog = LineFile.Set(paths.LinesConfig, name, settings);
        return ToolReply.Of(
            new { line = name, lines = catalog.Lines.Keys },
            $"Line {name} updated in lines.yaml:\n{catalog.ToYaml()}"
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = true, Idempotent = true)]
    [Description(
        "Push an approved run's reviewed SHA to factory/TASK-RUN on the repository's remote; opens a draft PR with gh when it can."
    )]
    public async Task<CallToolResult> PublishRunAsync(long run_id, CancellationToken ct = default)
    {
        var result = await publisher.PublishAsync(caller, run_id, ct);
        return ToolReply.Of(
            new
            {
                run_id = result.RunId,
                result.Sha,
                result.Branch,
                pr_url = result.PrUrl,
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
