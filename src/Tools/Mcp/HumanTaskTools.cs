using System.ComponentModel;
using System.Text;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Runs;
using FactoryMcp.Tools.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

[McpServerToolType]
internal sealed class HumanTaskTools(TaskLedger tasks, TaskIntake intake, RunBundle bundles, Caller caller)
{
    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description(
        "List tasks, newest first, optionally by state (proposed, ready, running, validating, awaiting_verification, awaiting_review, approved, shipped, no_op, escalated, cancelled, rejected) and line. Pass next_cursor back as cursor for more."
    )]
    public async Task<CallToolResult> ListTasksAsync(
        string? state = null,
        string? line = null,
        long? cursor = null,
        long limit = 50,
        CancellationToken ct = default
    )
    {
        var rows = await tasks.ListAsync(state, line, cursor, (int)Math.Clamp(limit, 1, 200), ct);
        var text = new StringBuilder(rows.Count == 0 ? "No tasks match.\n" : "");
        foreach (var t in rows)
            text.AppendLine($"- #{t.Id} [{t.State}] p{t.Priority} {t.Line}: {t.Title}");
        long? next = rows.Count == Math.Clamp(limit, 1, 200) ? rows[^1].Id : null;
        return ToolReply.Of(
            new
            {
                tasks = rows.Select(t => new
                {
                    t.Id,
                    t.Title,
                    t.State,
                    t.Line,
                    t.Priority,
                    t.Attempts,
                    t.Reworks,
                }),
                next_cursor = next,
            },
            text.ToString()
        );
    }

    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description(
        "The evidence bundle of a run as Markdown: task, evidence (marked agent/server/verifier), declarations including refused ones."
    )]
    public async Task<CallToolResult> GetRunAsync(long run_id, CancellationToken ct = default)
    {
        var bundle = await bundles.BuildAsync(run_id, ct);
        return ToolReply.Of(
            new
            {
                run_id = bundle.Run.Id,
                task_id = bundle.Task.Id,
                run_state = bundle.Run.State,
                task_state = bundle.Task.State,
            },
            bundle.Markdown
        );
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description(
        "Approve a proposed task: its base is pinned to a full SHA, its line's defaults are frozen into it, and it is queued for builders."
    )]
    public async Task<CallToolResult> ApproveTaskAsync(long task_id, CancellationToken ct = default)
    {
        var weakenings = await intake.WeakeningsAsync(task_id, ct);
        var task = await intake.ApproveAsync(caller, task_id, ct);
        var note =
            weakenings.Count == 0
                ? ""
                : " Approved overrides that weaken the line's gates: " + string.Join("; ", weakenings) + ".";
        return ToolReply.Of(
            new
            {
                task_id = task.Id,
                state = task.State,
                base_sha = task.BaseSha,
            },
            $"Task {task.Id} approved at base {task.BaseSha} and queued.{note}"
        );
    }

    [McpServerTool(Destructive = true, OpenWorld = false, Idempotent = false)]
    [Description("Turn down a proposed task, with the reason.")]
    public async Task<CallToolResult> RejectTaskAsync(long task_id, string reason, CancellationToken ct = default)
    {
        var task = await tasks.RejectAsync(caller, task_id, reason, ct);
        return ToolReply.Of(new { task_id = task.Id, state = task.State }, $"Task {task.Id} rejected.");
    }

    [McpServerTool(Destructive = false, OpenWorld = false, Idempotent = false)]
    [Description(
        "Replace a proposed task's packet with a new version (history is kept). Refused once the task is approved."
    )]
    public async Task<CallToolResult> UpdatePacketAsync(
        long task_id,
        [Description("The whole packet, Markdown.")] string packet,
        string? note = null,
        CancellationToken ct = default
    )
    {
        var task = await intake.UpdateAsync(caller, task_id, packet, note, ct);
        return ToolReply.Of(
            new
            {
                task_id = task.Id,
                state = task.State,
                version = task.CurrentVersion,
            },
            $"Task {task.Id} now holds packet version {task.CurrentVersion}."
        );
    }
}
