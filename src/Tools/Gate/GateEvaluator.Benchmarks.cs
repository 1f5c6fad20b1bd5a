using System.Text;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate.Benchmarks;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Gate;

public sealed partial class GateEvaluator
{
    /// <summary>
    /// Performance against base (README, "Performance against base"): each benchmark runs on fresh checkouts of base and
    /// head, alternating (base, head, head, base, …) in Validation's sandbox, and the medians are compared with their
    /// spread. Worse beyond the tolerance refuses; too noisy to tell sends the run to a human review.
    /// </summary>
    private async Task BenchmarkAsync(
        Findings gate,
        ValidationJobRow job,
        string head,
        ValidationRun atHead,
        TaskSettings settings,
        string mirror,
        CommandContext context,
        Action<string> progress,
        CancellationToken ct
    )
    {
        if (atHead.Outcomes.Any(o => !o.Passed))
        {
            // A head that fails Validation is refused anyway; measuring it would only spend the job's time.
            gate.Evidence.Add(
                new ServerEvidence(
                    EvidenceKinds.BenchmarkReport,
                    $"Benchmarks not run: Validation failed at head {Short(head)}",
                    "Benchmarks run only on a head whose Validation passes."
                )
            );
            return;
        }
        var baseCheckout = Path.Combine(context.JobFolder, "bench-base");
        var headCheckout = Path.Combine(context.JobFolder, "bench-head");
        var results = new List<BenchmarkResult>();
        progress("checking out base and head for benchmarks");
        await Checkouts.CreateAsync(mirror, job.BaseSha, baseCheckout, ct);
        try
        {
            await Checkouts.CreateAsync(mirror, head, headCheckout, ct);
            await commands.HandOverAsync([baseCheckout, headCheckout], context, ct);
            foreach (var benchmark in settings.Benchmarks)
                results.Add(await MeasureAsync(benchmark, baseCheckout, headCheckout, context, progress, ct));
        }
        finally
        {
            Checkouts.Delete(baseCheckout);
            Checkouts.Delete(headCheckout);
        }
        gate.Benchmarks = results;
        foreach (var r in results)
        {
            if (r.Outcome == BenchmarkOutcomes.Worse)
                gate.Problems.Add(
                    $"{r.Describe()}: head is worse than base beyond the tolerance; make it as fast as base"
                );
            else if (r.Outcome == BenchmarkOutcomes.Failed)
                gate.Problems.Add($"benchmark `{r.Name}` failed at head: {r.Failure}");
            else if (r.Outcome == BenchmarkOutcomes.TooNoisy)
                gate.ReviewReasons.Add(
                    $"benchmark `{r.Name}` was too noisy to tell whether head is worse than base beyond {BenchmarkResult.Percent(r.Tolerance)}"
                );
            else if (r.Outcome == BenchmarkOutcomes.NoBaseline)
                gate.ReviewReasons.Add($"benchmark `{r.Name}` has no baseline (it failed at base: {r.Failure})");
        }
        var counts = string.Join(
            ", ",
            results.GroupBy(r => r.Outcome).Select(g => $"{g.Count()} {g.Key.Replace('_', ' ').ToUpperInvariant()}")
        );
        gate.Evidence.Add(
            new ServerEvidence(
                EvidenceKinds.BenchmarkReport,
                $"Benchmarks, base {Short(job.BaseSha)} → head {Short(head)}: {counts}"
                    + (gate.ReviewReasons.Count > 0 ? " — a human must review this run" : ""),
                Render(results)
            )
        );
    }

    private async Task<BenchmarkResult> MeasureAsync(
        BenchmarkSettings benchmark,
        string baseCheckout,
        string headCheckout,
        CommandContext context,
        Action<string> progress,
        CancellationToken ct
    )
    {
        var name = benchmark.Label();
        var command = benchmark.Command!.Trim();
        var samples = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var failures = new Dictionary<bool, string>();
        var rounds = benchmark.Warmup + benchmark.Runs;
        for (var round = 0; round < rounds && !failures.ContainsKey(true); round++)
        {
            // Alternate which side goes first (ABBA), so a drift in the machine's load falls on both sides alike.
            foreach (var atHead in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                if (failures.ContainsKey(atHead))
                    continue;
                var side = atHead ? "head" : "base";
                progress(
                    $"benchmark {name}: {(round < benchmark.Warmup ? "warm-up" : $"run {round - benchmark.Warmup + 1}/{benchmark.Runs}")} at {side}"
                );
                var outcome = await commands.MeasureAsync(atHead ? headCheckout : baseCheckout, command, context, ct);
                if (!outcome.Passed)
                    failures[atHead] =
                        $"`{command}` {(outcome.TimedOut ? $"timed out after {context.TimeoutSeconds}s" : $"exited {outcome.ExitCode}")}; output ends: {Tail(outcome.Excerpt)}";
                else if (MetricReader.Read(outcome.Excerpt, benchmark, out var why) is { } value)
                {
                    if (round >= benchmark.Warmup)
                        samples[atHead].Add(value);
                }
                else
                    failures[atHead] = $"{why}; output ends: {Tail(outcome.Excerpt)}";
            }
        }
        var direction = benchmark.Direction;
        var tolerance = benchmark.ToleranceFraction()!.Value;
        var metric = benchmark.Metric!.Trim();
        if (failures.TryGetValue(true, out var headFailure))
            return new BenchmarkResult(
                name,
                command,
                metric,
                direction,
                tolerance,
                null,
                null,
                BenchmarkOutcomes.Failed,
                headFailure
            );
        var atHeadSide = new BenchmarkSide(samples[true]);
        if (failures.TryGetValue(false, out var baseFailure))
            return new BenchmarkResult(
                name,
                command,
                metric,
                direction,
                tolerance,
                null,
                atHeadSide,
                BenchmarkOutcomes.NoBaseline,
                baseFailure
            );
        var atBaseSide = new BenchmarkSide(samples[false]);
        return new BenchmarkResult(
            name,
            command,
            metric,
            direction,
            tolerance,
            atBaseSide,
            atHeadSide,
            BenchmarkResult.Decide(atBaseSide, atHeadSide, direction, tolerance)
        );
    }

    private static string Render(IReadOnlyList<BenchmarkResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine(
            "Each benchmark ran on fresh checkouts of base and head, alternating, in Validation's sandbox; warm-up runs are not counted."
        );
        foreach (var r in results)
        {
            sb.AppendLine().AppendLine($"- {r.Describe()}");
            sb.AppendLine($"  - command `{r.Command.Replace("`", "'")}`, metric `{r.Metric.Replace("`", "'")}`");
            if (r.Base is { } b)
                sb.AppendLine($"  - base samples: {string.Join(", ", b.Samples.Select(BenchmarkResult.Number))}");
            if (r.Head is { } h)
                sb.AppendLine($"  - head samples: {string.Join(", ", h.Samples.Select(BenchmarkResult.Number))}");
            if (r.Failure is { } f)
                sb.AppendLine(
                    $"  - {(r.Outcome == BenchmarkOutcomes.Failed ? "failed at head" : "failed at base")}: {f}"
                );
        }
        return sb.ToString();
    }
}
