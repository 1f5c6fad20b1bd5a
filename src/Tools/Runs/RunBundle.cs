using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Ledger.Verification;

namespace FactoryMcp.Tools.Runs;

/// <summary>
/// The evidence bundle of one run, as one Markdown document for humans (get_run, factory://runs/{id}/bundle,
/// `factory bundle RUN`): every item marked with its origin — [agent] claims, [server] observations,
/// [verifier] findings — refused declarations included. Each item's text is capped at
/// <see cref="ItemChars"/> and the whole bundle at <see cref="MaxChars"/>; blobs and the paged diff hold the rest.
/// </summary>
public sealed class RunBundle(
    RunLedger runs,
    TaskLedger tasks,
    EvidenceLedger evidence,
    DeclarationLedger declarations,
    VerificationLedger verifications,
    ReviewLedger reviews,
    EscalationLedger escalations,
    UsageLedger usage
)
{
    public const int ItemChars = 4000;
    public const int MaxChars = 100_000;

    public sealed record Bundle(RunRow Run, TaskRow Task, string Markdown);

    public async Task<Bundle> BuildAsync(long runId, CancellationToken ct = default)
    {
        var run = await runs.GetAsync(runId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        var items = await evidence.ForRunAsync(runId, ct);
        var declared = await declarations.ForRunAsync(runId, ct);
        var stages = await runs.StagesAsync(runId, ct);
        var packet = await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct);
        var verdicts = await verifications.ForRunAsync(runId, ct);
        var reviewed = await reviews.ForRunAsync(runId, ct);
        var raised = (await escalations.ForTaskAsync(task.Id, ct)).Where(e => e.RunId == runId).ToList();
        var measured = await usage.ForRunAsync(runId, ct);

        var sb = new StringBuilder();
        sb.AppendLine($"# Run {run.Id} — task {task.Id}: {task.Title}");
        Section(sb, "Summary");
        sb.AppendLine(
            $"- Run {run.State}{(run.CloseReason is { } reason ? $" ({reason})" : "")} by {run.AgentName}; task {task.State}, line {task.Line}, attempts {task.Attempts}, reworks {task.Reworks}"
        );
        sb.AppendLine(
            $"- Opened {Iso.Text(run.OpenedAt)}{(run.ClosedAt is { } closed ? $", closed {Iso.Text(closed)}" : "")}; stages {string.Join(" → ", stages.Select(s => s.Stage))}"
        );
        sb.AppendLine(
            $"- Base `{run.BaseSha}`, head `{run.HeadSha ?? "none"}`; {declared.Count(d => d.Outcome == "refused")} refused declaration(s)"
        );
        if (run.ReviewReason is { } flagged)
            sb.AppendLine($"- [server] **A HUMAN MUST REVIEW THIS RUN**: {flagged}");
        if (declared.LastOrDefault(d => d.Outcome == "accepted") is { } accepted)
            sb.AppendLine($"- [agent] declared {accepted.State}: {accepted.Summary}");

        Section(sb, "Original task");
        sb.AppendLine(
                $"Packet version {run.PacketVersion} ([factory://tasks/{task.Id}/packet](factory://tasks/{task.Id}/packet)):"
            )
            .AppendLine();
        sb.AppendLine(string.Join('\n', Excerpt(packet.Markdown).Split('\n').Select(l => "> " + l)));

        Section(sb, "Reproduction (before/after)");
        Items(sb, items.Where(e => e.Kind == EvidenceKinds.Reproduction));
        Section(sb, "Plan");
        Items(sb, items.Where(e => e.Kind == EvidenceKinds.Plan));
        Section(sb, "Diff");
        Items(sb, items.Where(e => e.Kind == EvidenceKinds.Diff));
        if (items.Any(e => e.Kind == EvidenceKinds.Diff && e.Origin == Origins.Server))
            sb.AppendLine($"The whole diff, paged: factory://runs/{run.Id}/diff?page=1");
        Section(sb, "Validation");
        Items(sb, items.Where(e => e.Kind == EvidenceKinds.TestOutput));
        if (items.Any(e => e.Kind == EvidenceKinds.TestReport))
        {
            Section(sb, "Tests, base → head");
            Items(sb, items.Where(e => e.Kind == EvidenceKinds.TestReport));
        }
        if (items.Any(e => e.Kind == EvidenceKinds.CoverageReport))
        {
            Section(sb, "Coverage, base → head");
            Items(sb, items.Where(e => e.Kind == EvidenceKinds.CoverageReport));
        }
        if (items.Any(e => e.Kind == EvidenceKinds.BenchmarkReport))
        {
            Section(sb, "Benchmarks, base → head");
            Items(sb, items.Where(e => e.Kind == EvidenceKinds.BenchmarkReport));
        }
        Section(sb, "Declarations (accepted and refused)");
        if (declared.Count == 0)
            sb.AppendLine("None yet.");
        foreach (var d in declared)
        {
            sb.AppendLine($"- [agent] {d.State} → [server] **{d.Outcome}** ({Iso.Text(d.CreatedAt)}): {d.Summary}");
            if (d.Reason is { } r)
                sb.AppendLine($"  - reason: {r}");
            foreach (var problem in Json.ReadStrings(d.ProblemsJson))
                sb.AppendLine($"  - [server] unmet: {problem}");
        }
        Section(sb, "No-op / escalation");
        var noOp = declared.LastOrDefault(d => d.State == TerminalStates.NoOp && d.Outcome == "accepted");
        if (noOp is null && raised.Count == 0)
            sb.AppendLine("None.");
        if (noOp is not null)
            sb.AppendLine($"- [agent] NO_OP `{noOp.Reason}`: {noOp.Summary}");
        foreach (var e in raised)
            sb.AppendLine(
                $"- [{(e.RaisedBy.StartsWith("agent:", StringComparison.Ordinal) ? "agent" : "server")}] asked: {e.Question}{(e.Answer is { } a ? $"\n  - [human] answered ({e.Action}): {a}" : "\n  - awaiting a human's answer")}"
            );
        Section(sb, "Verdicts");
        if (verdicts.Count == 0)
            sb.AppendLine("None.");
        foreach (var v in verdicts)
            sb.AppendLine($"- [verifier] {v.Role} ({v.Verifier}): **{v.Verdict}** — {Excerpt(v.Findings)}");
        Section(sb, "Review");
        if (reviewed.Count == 0)
            sb.AppendLine("None.");
        foreach (var r in reviewed)
            sb.AppendLine(
                $"- [human] {r.Reviewer}: **{r.Outcome}**{(r.ReviewedSha is { } sha ? $" at `{sha}`" : "")} — {Excerpt(r.Feedback)}"
            );
        Section(sb, "Residual risk");
        var risks = declared.Where(d => d.ResidualRisk is not null).ToList();
        if (risks.Count == 0)
            sb.AppendLine("None stated.");
        foreach (var d in risks)
            sb.AppendLine($"- [agent] {d.ResidualRisk}");
        Section(sb, "Cost");
        // Measured by the agent CLI's own telemetry (README "Telemetry"), shown before anything the agent claimed.
        sb.AppendLine(
            measured is null
                ? "- [telemetry] no usage telemetry was received for this run"
                : $"- [telemetry] {measured.Tokens} tokens (input {measured.Input}, output {measured.Output}, cache read {measured.CacheRead}, cache write {measured.CacheCreation}), cost {measured.CostUsd.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)} USD; model {(measured.Models.Count == 0 ? "unknown" : string.Join(", ", measured.Models))}; from {string.Join(", ", measured.Services)} {(measured.Origin == UsageLedger.Logs ? "log events" : "metrics")}"
        );
        Items(sb, items.Where(e => e.Kind == EvidenceKinds.Cost));
        Section(sb, "Other evidence");
        Items(
            sb,
            items.Where(e =>
                e.Kind
                    is not (
                        EvidenceKinds.Reproduction
                        or EvidenceKinds.Plan
                        or EvidenceKinds.Diff
                        or EvidenceKinds.TestOutput
                        or EvidenceKinds.TestReport
                        or EvidenceKinds.CoverageReport
                        or EvidenceKinds.BenchmarkReport
                        or EvidenceKinds.Cost
                    )
            )
        );

        var markdown = sb.ToString();
        if (markdown.Length > MaxChars)
            markdown =
                markdown[..MaxChars]
                + $"\n\n… [bundle truncated at {MaxChars} characters; evidence blobs and factory://runs/{run.Id}/diff hold everything]";
        return new Bundle(run, task, markdown);
    }

    private static void Section(StringBuilder sb, string title) => sb.AppendLine().AppendLine($"## {title}");

    private static void Items(StringBuilder sb, IEnumerable<EvidenceRow> items)
    {
        var any = false;
        foreach (var item in items)
        {
            any = true;
            sb.AppendLine($"- [{item.Origin}] **{item.Kind}** #{item.Id} ({Iso.Text(item.CreatedAt)}): {item.Summary}");
            if (item.Content is { Length: > 0 } content)
                sb.AppendLine()
                    .AppendLine(string.Join('\n', Excerpt(content).TrimEnd().Split('\n').Select(l => "    " + l)))
                    .AppendLine();
            if (item.BlobSha is { } blob)
                sb.AppendLine($"  - blob `{blob}` ({item.BlobBytes} bytes{(item.FileName is { } f ? $", {f}" : "")})");
        }
        if (!any)
            sb.AppendLine("None.");
    }

    private static string Excerpt(string text) =>
        text.Length <= ItemChars ? text : text[..ItemChars] + $"\n… [{text.Length - ItemChars} more characters]";
}
