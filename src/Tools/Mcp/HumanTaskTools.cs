using System.ComponentModel;
using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Queries;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Runs;
using FactoryMcp.Tools.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class HumanTaskTools(
    TaskLedger tasks,
    TaskIntake intake,
    RunBundle bundles,
    TimeProvider time,
    Caller caller
)
{
    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description(
        "Tasks newest first; runs: true lists runs. Filters: state, line, agent (who ran it), since (24h, 7d, ISO), text (title). More: cursor = next_cursor."
    )]
    public async Task<CallToolResult> ListTasksAsync(
        string? state = null,
        string? line = null,
        string? agent = null,
        string? since = null,
        string? text = null,
        bool runs = false,
        long? cursor = null,
        long limit = 50,
        CancellationToken ct = default
    )
    {
        var query = new LedgerQuery
        {
            State = state,
            Line = line,
            Agent = agent,
            Since = Since.Parse(since, time.GetUtcNow()),
            Text = text,
            BeforeId = cursor,
            Limit = (int)Math.Clamp(limit, 1, 200),
        };
        var lines = new StringBuilder();
        if (runs)
        {
            var found = await tasks.FindRunsAsync(query, ct);
            foreach (var (r, title, runLine) in found)
                lines.AppendLine($"- run {r.Id} [{r.State}] task {r.TaskId} by {r.AgentName}, {runLine}: {title}");
            return ToolReply.Of(
                new JsonObject
                {
                    ["runs"] = Json.Array(
                        found.Select(f =>
                            (JsonNode?)
                                new JsonObject
                                {
                                    ["run_id"] = f.Run.Id,
                                    ["task_id"] = f.Run.TaskId,
                                    ["state"] = f.Run.State,
                                    ["agent"] = f.Run.AgentName,
                                    ["kind"] = f.Run.Kind,
                                    ["line"] = f.Line,
                                    ["title"] = f.Title,
                                    ["opened_at"] = f.Run.OpenedAt,
                                    ["closed_at"] = f.Run.ClosedAt,
                                }
                        )
                    ),
                    ["next_cursor"] = query.NextCursor(found, f => f.Run.Id),
                },
                found.Count == 0 ? "No runs match.\n" : lines.ToString()
            );
        }
        var rows = await tasks.FindAsync(query, ct);
        foreach (var t in rows)
            lines.AppendLine($"- #{t.Id} [{t.State}] p{t.Priority} {t.Line}: {t.Title}");
        return ToolReply.Of(
            new JsonObject
            {
                ["tasks"] = Json.Array(
                    rows.Select(t =>
                        (JsonNode?)
                            new JsonObject
                            {
                                ["task_id"] = t.Id,
                                ["title"] = t.Title,
                                ["state"] = t.State,
                                ["line"] = t.Line,
                                ["priority"] = t.Priority,
                                ["target"] = Ledger.Dispatch.DispatchTargets.Show(t.Target),
                                ["attempts"] = t.Attempts,
                                ["reworks"] = t.Reworks,
                                ["updated_at"] = t.UpdatedAt,
                            }
                    )
                ),
                ["next_cursor"] = query.NextCursor(rows, t => t.Id),
            },
            rows.Count == 0 ? "No tasks match.\n" : lines.ToString()
        );
    }

    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description("A run's evidence bundle (Markdown): task, evidence by origin, declarations incl. refused.")]
    public async Task<CallToolResult> GetRunAsync(long run_id, CancellationToken ct = default)
    {
        var bundle = await bundles.BuildAsync(run_id, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["run_id"] = bundle.Run.Id,
                ["task_id"] = bundle.Task.Id,
                ["run_state"] = bundle.Run.State,
                ["task_state"] = bundle.Task.State,
            },
            bundle.Markdown
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false)]
    [Description("Approve a proposal: pins its base SHA, freezes its line's defaults, queues it.")]
    public async Task<CallToolResult> ApproveTaskAsync(long task_id, CancellationToken ct = default)
    {
        var weakenings = await intake.WeakeningsAsync(task_id, ct);
        var task = await intake.ApproveAsync(caller, task_id, ct);
        var note =
            weakenings.Count == 0
                ? ""
                : " Approved overrides that weaken the line's gates: " + string.Join("; ", weakenings) + ".";
        return ToolReply.Of(
            new JsonObject
            {
                ["task_id"] = task.Id,
                ["state"] = task.State,
                ["base_sha"] = task.BaseSha,
            },
            $"Task {task.Id} approved at base {task.BaseSha} and queued.{note}"
        );
    }

    [McpServerTool(Destructive = true, OpenWorld = false)]
    [Description("Turn down a proposed task, with the reason.")]
    public async Task<CallToolResult> RejectTaskAsync(long task_id, string reason, CancellationToken ct = default)
    {
        var task = await tasks.RejectAsync(caller, task_id, reason, ct);
        return ToolReply.Of(
            new JsonObject { ["task_id"] = task.Id, ["state"] = task.State },
            $"Task {task.Id} rejected."
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false)]
    [Description("Replace a proposal's packet (versions kept); refused once approved.")]
    public async Task<CallToolResult> UpdatePacketAsync(
        long task_id,
        [Description("Whole packet, Markdown.")] string packet,
        string? note = null,
        CancellationToken ct = default
    )
    {
        var task = await intake.UpdateAsync(caller, task_id, packet, note, ct);
        return ToolReply.Of(
            new JsonObject
            {
                ["task_id"] = task.Id,
                ["state"] = task.State,
                ["version"] = task.CurrentVersion,
            },
            $"Task {task.Id} now holds packet version {task.CurrentVersion}."
        );
    }
}
