using System.Text;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate.Reports;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Gate;

public sealed partial class GateEvaluator
{
    /// <summary>Rows of the per-test table shown inline in the evidence; the blob holds every row.</summary>
    private const int InlineRows = 40;

    /// <summary>
    /// Per-test non-regression (README, "Per-test non-regression"): Validation also runs at base (cached per base, so a
    /// line's queue pays once), both runs' JUnit reports are compared test by test, and every test that passed at base
    /// and does not pass at head is an unmet condition naming it.
    /// </summary>
    private async Task CompareTestsAsync(
        Findings gate,
        ValidationJobRow job,
        string head,
        ValidationRun atHead,
        string pattern,
        Packet packet,
        DiffReport report,
        TaskSettings settings,
        string mirror,
        CommandContext context,
        Action<string> progress,
        CancellationToken ct
    )
    {
        if (atHead.Tests is not { } headTests)
        {
            gate.Problems.Add(
                $"the per-test comparison (reports.junit) could not read the head's test reports: {atHead.ReportProblem}"
            );
            return;
        }
        progress("checking out base for the per-test comparison");
        var checkout = Path.Combine(context.JobFolder, "base-validation");
        await Checkouts.CreateAsync(mirror, job.BaseSha, checkout, ct);
        ValidationRun atBase;
        try
        {
            atBase = await commands.RunWithReportsAsync(
                checkout,
                settings.Validation,
                job.BaseSha,
                context,
                pattern,
                p => progress("validation at base " + p),
                ct
            );
        }
        finally
        {
            Checkouts.Delete(checkout);
        }
        var baseTests = atBase.Tests ?? new TestTable(new Dictionary<string, TestCaseResult>(), []);
        var comparison = TestComparison.Compare(
            baseTests,
            headTests,
            settings.AllowTestDeletion,
            packet.Scope,
            report.EditedTests
        );
        gate.Problems.AddRange(comparison.Problems());
        var rows = TestRow.Table(baseTests, headTests, comparison);
        gate.Tests = rows;
        var blob = blobs.Put(Encoding.UTF8.GetBytes(TestRow.ToJson(rows)));
        var summary =
            $"Tests, base {Short(job.BaseSha)} → head {Short(head)}: {comparison.Regressions.Count} regressed, {comparison.Fixed.Count} fixed, {comparison.New.Count} new, {comparison.AllowedRemovals.Count} removed (allowed), {comparison.Unchanged} unchanged"
            + (atBase.Tests is null ? "; NO BASELINE (base reports unreadable: every head test counts as new)" : "");
        gate.Evidence.Add(
            new ServerEvidence(EvidenceKinds.TestReport, summary, Render(pattern, atBase, atHead, rows, blob), blob)
        );
    }

    private static string Render(
        string pattern,
        ValidationRun atBase,
        ValidationRun atHead,
        IReadOnlyList<TestRow> rows,
        string blob
    )
    {
        var sb = new StringBuilder();
        sb.AppendLine($"reports.junit `{pattern}`");
        sb.AppendLine(
            $"- base: {atBase.Tests?.Summary ?? "no usable report: " + atBase.ReportProblem}{(atBase.Outcomes.All(o => o.Cached) ? " (cached)" : "")}"
        );
        sb.AppendLine($"- head: {atHead.Tests!.Summary}");
        if (atHead.RemovedReports.Count > 0)
            sb.AppendLine(
                $"- the commit carried report files, deleted before Validation ran: {string.Join(", ", atHead.RemovedReports)}"
            );
        var notable = rows.Where(r => r.Verdict != TestRow.Same).ToList();
        sb.AppendLine().AppendLine("| test | base | head | verdict |").AppendLine("|---|---|---|---|");
        foreach (var row in notable.Take(InlineRows))
            sb.AppendLine(
                $"| `{row.Id.Replace("|", "\\|").Replace("`", "'")}` | {Status(row.Base)} | {Status(row.Head)} | {(row.Verdict == TestRow.Regressed ? "**REGRESSED**" : row.Verdict)} |"
            );
        if (notable.Count > InlineRows)
            sb.AppendLine($"| … {notable.Count - InlineRows} more changed test(s) | | | |");
        sb.AppendLine($"| {rows.Count - notable.Count} unchanged test(s) | | | unchanged |");
        sb.AppendLine().AppendLine($"Every row, as JSON: blob {blob}");
        return sb.ToString();
    }

    private static string Status(TestStatus? status) => status is { } s ? s.ToString().ToLowerInvariant() : "—";
}
