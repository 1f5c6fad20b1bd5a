using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Gate.Reports;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Tools.Triggers;

/// <summary>
/// Flaky tests (README, "Triggers"): every validation's per-test results are kept per (test, commit); a test that
/// both passed and failed on one commit, or whose failure rate over its last <c>flaky_window</c> runs reaches
/// <c>flaky_threshold</c> (while it also passed among them), becomes one signal with its history as evidence, and
/// no other while that signal is open.
/// </summary>
public sealed class FlakyTests(
    TestResultLedger results,
    RunLedger runs,
    TaskLedger tasks,
    SignalIntake intake,
    ConfigFiles config
)
{
    public const string Source = "flaky";
    public const string Label = "flaky-test";

    /// <summary>The name a Validation command's exit is kept under when the line reads no JUnit reports.</summary>
    public static string CommandTest(string command) => "command: " + command;

    /// <summary>Records a finished validation's results, then signals the tests it shows to be flaky.</summary>
    public async Task<IReadOnlyList<SignalIntake.Outcome>> RecordAsync(
        ValidationJobRow job,
        string head,
        GateFacts facts,
        CancellationToken ct = default
    )
    {
        var run = await runs.GetAsync(job.RunId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        return await RecordAsync(job.Id, task.Repo, task.Line, head, facts, ct);
    }

    /// <summary>Records the results of validation job <paramref name="jobId"/> of a task on <paramref name="line"/> in <paramref name="repo"/>.</summary>
    public async Task<IReadOnlyList<SignalIntake.Outcome>> RecordAsync(
        long jobId,
        string repo,
        string line,
        string head,
        GateFacts facts,
        CancellationToken ct = default
    )
    {
        // Cached outcomes ran for an earlier job, whose results were kept then.
        if (facts.Validation.Count == 0 || facts.Validation.All(o => o.Cached))
            return [];
        var task = new { Repo = repo, Line = line };
        var list = Results(facts);
        await results.RecordAsync(jobId, task.Repo, task.Line, head, list, ct);
        if (config.Settings.FlakyThreshold is not { } threshold)
            return [];
        var failedHere = await results.FailedOnAsync(task.Repo, head, ct);
        var candidates = list.Where(r => !r.Passed || failedHere.Contains(r.Test)).Select(r => r.Test).Distinct();
        var outcomes = new List<SignalIntake.Outcome>();
        foreach (var test in candidates)
        {
            var history = await results.HistoryAsync(task.Repo, test, config.Settings.FlakyWindow, ct);
            if (Why(history, threshold) is not { } why)
                continue;
            var key = $"{RepoName(task.Repo)}:{test}";
            var (count, open) = await results.FlakySignalsAsync(key, ct);
            if (open)
                continue;
            var id = count == 0 ? key : $"{key}#{(count + 1).ToString(CultureInfo.InvariantCulture)}";
            outcomes.Add(
                await intake.IngestAsync(
                    "server:flaky-tests",
                    new SignalInput(
                        Source,
                        id,
                        $"Flaky test: {test}",
                        Body(test, task.Repo, why, history),
                        null,
                        [Label],
                        null,
                        null
                    ),
                    ct
                )
            );
        }
        return outcomes;
    }

    /// <summary>Why a history is flaky, or null when it is not.</summary>
    public static string? Why(IReadOnlyList<TestResultLedger.HistoryRow> history, double threshold)
    {
        if (
            history.GroupBy(h => h.CommitSha).FirstOrDefault(g => g.Any(h => h.Passed) && g.Any(h => !h.Passed)) is
            { } mixed
        )
            return $"it both passed and failed on commit {mixed.Key[..Math.Min(12, mixed.Key.Length)]}";
        var failures = history.Count(h => !h.Passed);
        var rate = history.Count == 0 ? 0 : (double)failures / history.Count;
        return failures < history.Count && history.Count >= 2 && rate >= threshold
            ? $"it failed {failures} of its last {history.Count} runs ({rate:P0}), at or above flaky_threshold {threshold:0.##}, and passed in the others"
            : null;
    }

    private static List<TestResultLedger.Result> Results(GateFacts facts)
    {
        if (facts.Tests is { } rows)
            return rows.Where(r => r.Head is TestStatus.Passed or TestStatus.Failed or TestStatus.Error)
                .Select(r => new TestResultLedger.Result(r.Id, r.Head == TestStatus.Passed))
                .ToList();
        return facts
            .Validation.Where(o => !o.Cached)
            .Select(o => new TestResultLedger.Result(CommandTest(o.Command), o.Passed))
            .DistinctBy(r => r.Test)
            .ToList();
    }

    private static string RepoName(string repo)
    {
        var name = Path.GetFileName(repo.TrimEnd('/', '\\'));
        return name.EndsWith(".git", StringComparison.Ordinal) ? name[..^4] : name;
    }

    private static string Body(string test, string repo, string why, IReadOnlyList<TestResultLedger.HistoryRow> history)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"`{test}` in {RepoName(repo)} looks flaky: {why}.");
        sb.AppendLine().AppendLine("Its last runs, newest first:").AppendLine();
        sb.AppendLine("| commit | result | validation job | at |").AppendLine("|---|---|---|---|");
        foreach (var h in history)
            sb.AppendLine(
                $"| {h.CommitSha[..Math.Min(12, h.CommitSha.Length)]} | {(h.Passed ? "passed" : "FAILED")} | {h.JobId} | {Ledger.Storage.Iso.Text(h.RecordedAt)} |"
            );
        return sb.ToString();
    }
}
