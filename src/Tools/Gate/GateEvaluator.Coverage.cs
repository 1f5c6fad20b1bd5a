using System.Text;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate.Coverage;

namespace FactoryMcp.Tools.Gate;

public sealed partial class GateEvaluator
{
    /// <summary>
    /// Coverage (README, "Coverage"): the report Validation wrote at head (and base, with no_decrease) against the
    /// line's thresholds, total and on the lines the change adds or modifies; refusals list the uncovered changed lines.
    /// </summary>
    private async Task CheckCoverageAsync(
        Findings gate,
        ValidationJobRow job,
        string head,
        ValidationRun atHead,
        ValidationRun? atBase,
        CoverageSettings settings,
        string mirror,
        CancellationToken ct
    )
    {
        if (atHead.Coverage is not { } headTable)
        {
            gate.Problems.Add(
                $"the coverage check could not read the head's coverage report: {atHead.CoverageProblem}"
            );
            return;
        }
        var changed = await ChangedLines.ReadAsync(mirror, job.BaseSha, head, ct);
        var figures = CoverageFigures.Compute(settings, headTable, atBase?.Coverage, changed);
        gate.Problems.AddRange(figures.Problems);
        gate.Coverage = figures;
        var noBaseline = settings.NoDecrease && atBase?.Coverage is null;
        var summary =
            $"Coverage, base {Short(job.BaseSha)} → head {Short(head)}: head {figures.Head}"
            + (figures.Base is { } b ? $", base {b}" : "")
            + $"; changed lines {figures.Changed}"
            + (figures.Uncovered.Count > 0 ? $", {figures.Uncovered.Sum(u => u.Count)} uncovered" : "")
            + (
                noBaseline
                    ? $"; NO BASELINE (base coverage unreadable: {atBase?.CoverageProblem ?? "base not run"}), no_decrease not checked"
                    : ""
            );
        gate.Evidence.Add(new ServerEvidence(EvidenceKinds.CoverageReport, summary, Render(figures, atHead, atBase)));
    }

    private static string Render(CoverageFigures figures, ValidationRun atHead, ValidationRun? atBase)
    {
        var s = figures.Settings;
        var sb = new StringBuilder();
        sb.AppendLine($"coverage.report `{s.Report}`");
        sb.AppendLine(
            $"- thresholds: min_line {(s.MinLine is { } l ? $"{l}%" : "none")}, min_changed_lines {(s.MinChangedLines is { } c ? $"{c}%" : "none")}, no_decrease {(s.NoDecrease ? "yes" : "no")}"
        );
        sb.AppendLine($"- head: {atHead.Coverage!.Summary}{(atHead.Outcomes.All(o => o.Cached) ? " (cached)" : "")}");
        if (atBase is not null)
            sb.AppendLine(
                $"- base: {atBase.Coverage?.Summary ?? "no usable report: " + atBase.CoverageProblem}{(atBase.Outcomes.All(o => o.Cached) ? " (cached)" : "")}"
            );
        sb.AppendLine($"- changed lines: {figures.Changed} (only lines the report counts as coverable)");
        if (figures.Uncovered.Count > 0)
        {
            sb.AppendLine().AppendLine("Uncovered changed lines:").AppendLine();
            foreach (var u in figures.Uncovered)
                sb.AppendLine($"- `{u.File.Replace("`", "'")}`: {u.Lines}");
        }
        foreach (var problem in figures.Problems)
            sb.AppendLine().Append("**UNMET**: ").AppendLine(problem);
        return sb.ToString();
    }
}
