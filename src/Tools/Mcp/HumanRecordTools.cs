using System.ComponentModel;
using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Queries;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>list_records: one read for what a human decides about besides tasks (signals, feedback, lessons, drafts, agents).</summary>
[McpServerToolType]
internal sealed class HumanRecordTools(
    SignalLedger signals,
    TaskLedger tasks,
    LessonLedger lessons,
    DraftLedger drafts,
    AgentRegistry agents,
    TimeProvider time
)
{
    [McpServerTool(ReadOnly = true, OpenWorld = false)]
    [Description(
        "Records newest first by kind: signals (outcome, duplicates; duplicates: true = flagged only), feedback (unpromoted), lessons, drafts, agents (pools, utilization over since, default 24h). Filters: status, line, agent, since, text; cursor."
    )]
    public async Task<CallToolResult> ListRecordsAsync(
        string kind,
        string? status = null,
        string? line = null,
        string? agent = null,
        string? since = null,
        string? text = null,
        bool duplicates = false,
        long? cursor = null,
        long limit = 50,
        CancellationToken ct = default
    )
    {
        var query = new LedgerQuery
        {
            State = status,
            Line = line,
            Agent = agent,
            Since = kind == "agents" ? null : Since.Parse(since, time.GetUtcNow()),
            Text = text,
            BeforeId = cursor,
            Limit = (int)Math.Clamp(limit, 1, 200),
        };
        return kind switch
        {
            "signals" => await SignalsAsync(query, duplicates, ct),
            "feedback" => await FeedbackAsync(query, ct),
            "lessons" => await LessonsAsync(query, ct),
            "drafts" => await DraftsAsync(query, ct),
            "agents" => await AgentsAsync(since, ct),
            _ => throw new LedgerException(
                $"kind '{kind}' is not one of signals, feedback, lessons, drafts, agents (tasks and runs: list_tasks)."
            ),
        };
    }

    private async Task<CallToolResult> SignalsAsync(LedgerQuery query, bool flaggedOnly, CancellationToken ct)
    {
        var rows = await signals.FindAsync(query, flaggedOnly, ct);
        var text = new StringBuilder(rows.Count == 0 ? "No signals match.\n" : "");
        var items = new JsonArray();
        foreach (var s in rows)
        {
            var task = await tasks.FindBySignalAsync(s.Id, ct);
            var links = await signals.LinksAsync(s.Id, ct);
            text.AppendLine(
                $"- signal {s.Id} {s.Key} [{s.Status}]{(task is null ? "" : $" task {task.Id} ({task.State})")}: {s.Title}"
                    + (s.StatusReason is { } r ? $" ({r})" : "")
            );
            foreach (var link in links)
                text.AppendLine($"  possible duplicate of {link.Describe()}");
            items.Add(
                (JsonNode?)
                    new JsonObject
                    {
                        ["signal_id"] = s.Id,
                        ["key"] = s.Key,
                        ["title"] = s.Title,
                        ["status"] = s.Status,
                        ["reason"] = s.StatusReason,
                        ["task_id"] = task?.Id,
                        ["task_state"] = task?.State,
                        ["received_at"] = s.ReceivedAt,
                        ["duplicates"] = Json.Array(links.Select(l => (JsonNode?)l.ToJson())),
                    }
            );
        }
        return ToolReply.Of(
            new JsonObject { ["signals"] = items, ["next_cursor"] = query.NextCursor(rows, s => s.Id) },
            text.ToString()
        );
    }

    private async Task<CallToolResult> FeedbackAsync(LedgerQuery query, CancellationToken ct)
    {
        var rows = await lessons.FeedbackToPromoteAsync(query, ct);
        var text = new StringBuilder(rows.Count == 0 ? "No feedback waits for promotion.\n" : "");
        foreach (var f in rows)
            text.AppendLine($"- feedback {f.Id} task {f.TaskId} {f.Kind} by {f.Author}: {Shorten(f.Text, 300)}");
        return ToolReply.Of(
            new JsonObject
            {
                ["feedback"] = Json.Array(
                    rows.Select(f =>
                        (JsonNode?)
                            new JsonObject
                            {
                                ["feedback_id"] = f.Id,
                                ["task_id"] = f.TaskId,
                                ["run_id"] = f.RunId,
                                ["kind"] = f.Kind,
                                ["author"] = f.Author,
                                ["text"] = Shorten(f.Text, 300),
                            }
                    )
                ),
                ["next_cursor"] = query.NextCursor(rows, f => f.Id),
            },
            text + (rows.Count == 0 ? "" : "Promote one with promote_lesson.")
        );
    }

    private async Task<CallToolResult> LessonsAsync(LedgerQuery query, CancellationToken ct)
    {
        var rows = (await lessons.AllAsync(ct))
            .Where(l => query.Line is null || l.Line == query.Line)
            .Where(l => query.Text is null || l.Text.Contains(query.Text.Trim(), StringComparison.OrdinalIgnoreCase))
            .Where(l => query.BeforeId is null || l.Id < query.BeforeId)
            .OrderByDescending(l => l.Id)
            .Take(query.ClampedLimit)
            .ToList();
        var text = new StringBuilder(rows.Count == 0 ? "No active lessons match.\n" : "");
        foreach (var l in rows)
            text.AppendLine($"- lesson {l.Id} [{l.Line}] {Shorten(l.Text, 300)}");
        return ToolReply.Of(
            new JsonObject
            {
                ["lessons"] = Json.Array(
                    rows.Select(l =>
                        (JsonNode?)
                            new JsonObject
                            {
                                ["lesson_id"] = l.Id,
                                ["line"] = l.Line,
                                ["feedback_id"] = l.FeedbackId,
                                ["text"] = Shorten(l.Text, 300),
                            }
                    )
                ),
                ["next_cursor"] = query.NextCursor(rows, l => l.Id),
            },
            text.ToString()
        );
    }

    private async Task<CallToolResult> DraftsAsync(LedgerQuery query, CancellationToken ct)
    {
        var rows = (await drafts.ListAsync(ct: ct))
            .Where(d => query.State is null || d.Status == query.State)
            .Where(d => query.BeforeId is null || d.Id < query.BeforeId)
            .OrderByDescending(d => d.Id)
            .Take(query.ClampedLimit)
            .ToList();
        var text = new StringBuilder(rows.Count == 0 ? "No drafts match.\n" : "");
        foreach (var d in rows)
            text.AppendLine(
                $"- draft {d.Id} event {d.EventId} {d.Kind} [{d.Status}] by {d.Author}: {Headline(d.Content)}"
            );
        return ToolReply.Of(
            new JsonObject
            {
                ["drafts"] = Json.Array(
                    rows.Select(d =>
                        (JsonNode?)
                            new JsonObject
                            {
                                ["draft_id"] = d.Id,
                                ["event_id"] = d.EventId,
                                ["kind"] = d.Kind,
                                ["status"] = d.Status,
                                ["author"] = d.Author,
                                ["uri"] = $"factory://drafts/{d.Id}",
                            }
                    )
                ),
                ["next_cursor"] = query.NextCursor(rows, d => d.Id),
            },
            text.ToString()
        );
    }

    private async Task<CallToolResult> AgentsAsync(string? window, CancellationToken ct)
    {
        var span = string.IsNullOrWhiteSpace(window)
            ? TimeSpan.FromHours(24)
            : Since.Duration(window)
                ?? throw new LedgerException(
                    $"since '{window}' is not a duration for agents; write it like 90m, 24h or 7d."
                );
        var rows = await agents.ActivityAsync(span, ct);
        var text = new StringBuilder();
        foreach (var a in rows)
            text.AppendLine(
                $"- {a.Agent.Name} ({a.Agent.Role}{(a.Agent.VerifierRole is { } v ? "/" + v : "")}) {a.Status}, {a.OpenRuns} open run(s), utilization {a.Utilization:P0}{(a.Pools.Count > 0 ? ", pools " + string.Join(",", a.Pools) : "")}"
            );
        var pools = rows.SelectMany(a => a.Pools.Select(p => (Pool: p, Activity: a)))
            .GroupBy(x => x.Pool)
            .OrderBy(g => g.Key)
            .Select(g => new
            {
                pool = g.Key,
                members = g.Select(x => x.Activity.Agent.Name).ToList(),
                busy = g.Count(x => x.Activity.Status == AgentActivity.BusyStatus),
                idle = g.Count(x => x.Activity.Status == AgentActivity.IdleStatus),
                utilization = Math.Round(g.Average(x => x.Activity.Utilization), 3),
            })
            .ToList();
        foreach (var p in pools)
            text.AppendLine(
                $"- pool {p.pool}: {p.members.Count} member(s), busy {p.busy}, idle {p.idle}, utilization {p.utilization:P0}"
            );
        return ToolReply.Of(
            new JsonObject
            {
                ["window_hours"] = Math.Round(span.TotalHours, 2),
                ["agents"] = Json.Array(
                    rows.Select(a =>
                        (JsonNode?)
                            new JsonObject
                            {
                                ["name"] = a.Agent.Name,
                                ["role"] = a.Agent.Role,
                                ["verifier_role"] = a.Agent.VerifierRole,
                                ["pools"] = Json.Array(a.Pools),
                                ["status"] = a.Status,
                                ["open_runs"] = a.OpenRuns,
                                ["runs_in_window"] = a.RunsInWindow,
                                ["busy_minutes"] = Math.Round(a.Busy.TotalMinutes, 1),
                                ["utilization"] = Math.Round(a.Utilization, 3),
                                ["last_seen_at"] = a.Agent.LastSeenAt,
                            }
                    )
                ),
                ["pools"] = Json.Array(
                    pools.Select(p =>
                        (JsonNode?)
                            new JsonObject
                            {
                                ["pool"] = p.pool,
                                ["members"] = Json.Array(p.members),
                                ["busy"] = p.busy,
                                ["idle"] = p.idle,
                                ["utilization"] = p.utilization,
                            }
                    )
                ),
            },
            rows.Count == 0 ? "No agents are registered.\n" : text.ToString()
        );
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Headline(string content) =>
        Shorten(content.Split('\n').FirstOrDefault(l => l.Length > 0 && l != "---") ?? "", 100);
}
