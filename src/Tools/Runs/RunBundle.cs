using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Tools.Runs;

/// <summary>
/// The evidence bundle of one run, as Markdown: every item marked with its origin (agent, server,
/// verifier), refused declarations included.
/// </summary>
public sealed class RunBundle(TaskLedger tasks, RunLedger runs)
{
    public sealed record Bundle(RunRow Run, TaskRow Task, string Markdown);

    public async Task<Bundle> BuildAsync(long runId, CancellationToken ct = default)
    {
        var run = await runs.GetAsync(runId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        var evidence = await runs.EvidenceAsync(runId, ct);
        var declarations = await runs.DeclarationsAsync(runId, ct);
        var stages = await runs.StagesAsync(runId, ct);
        var packet = await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct);

        var sb = new StringBuilder();
        sb.AppendLine($"# Run {run.Id} — task {task.Id}: {task.Title}");
        sb.AppendLine();
        sb.AppendLine("## Summary");
        sb.AppendLine($"- Run: {run.State}{(run.CloseReason is { } reason ? $" ({reason})" : "")}, by {run.AgentName}, opened {Iso.Text(run.OpenedAt)}{(run.ClosedAt is { } closed ? $", closed {Iso.Text(closed)}" : "")}");
        sb.AppendLine($"- Task: {task.State}, line {task.Line}, attempts {task.Attempts}, reworks {task.Reworks}");
        sb.AppendLine($"- Base `{run.BaseSha}`, head `{run.HeadSha ?? "none yet"}`, workspace `{run.Workspace}`");
        sb.AppendLine($"- Stages: {string.Join(" → ", stages.Select(s => $"{s.Stage} ({Iso.Text(s.At)})"))}");
        sb.AppendLine();
        sb.AppendLine("## Original task");
        sb.AppendLine($"Packet version {run.PacketVersion}:");
        sb.AppendLine();
        sb.AppendLine(Quote(packet.Markdown));
        sb.AppendLine();
        sb.AppendLine("## Evidence");
        if (evidence.Count == 0) sb.AppendLine("None recorded.");
        foreach (var item in evidence)
        {
            sb.AppendLine($"- [{item.Origin}] **{item.Kind}** #{item.Id} ({Iso.Text(item.CreatedAt)}{(item.Stage is { } s ? $", {s}" : "")}): {item.Summary}");
            if (item.Content is { Length: > 0 } content) sb.AppendLine(Indent(Excerpt(content)));
            if (item.BlobSha is { } blob) sb.AppendLine($"  - blob `{blob}` ({item.BlobBytes} bytes{(item.FileName is { } f ? $", {f}" : "")})");
        }
        sb.AppendLine();
        sb.AppendLine("## Declarations");
        if (declarations.Count == 0) sb.AppendLine("None yet.");
        foreach (var d in declarations)
        {
            sb.AppendLine($"- [agent] {d.State} → **{d.Outcome}** ({Iso.Text(d.CreatedAt)}): {d.Summary}");
            if (d.Reason is { } r) sb.AppendLine($"  - reason: {r}");
            if (d.Question is { } q) sb.AppendLine($"  - question: {q}");
            if (d.ResidualRisk is { } risk) sb.AppendLine($"  - residual risk: {risk}");
            foreach (var problem in Json.Deserialize<List<string>>(d.ProblemsJson)) sb.AppendLine($"  - [server] unmet: {problem}");
        }
        return new Bundle(run, task, sb.ToString());
    }

    private static string Quote(string text) => string.Join('\n', text.Split('\n').Select(l => "> " + l));

    private static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "    " + l));

    private static string Excerpt(string text) => text.Length <= 4000 ? text : text[..4000] + $"\n… [{text.Length - 4000} more characters]";
}
