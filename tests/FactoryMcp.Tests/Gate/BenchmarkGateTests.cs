using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Attestation;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// Performance against base with real shell benchmarks in the validation sandbox: base and head alternate, the medians
/// are compared with their spread, and the outcome is better, same, worse or too noisy.
/// </summary>
public abstract class BenchmarkGateTests(LedgerEngine engine) : EngineTests(engine)
{
    // Times src/work.sh in milliseconds, as a benchmark harness would print it.
    private const string Timer =
        "#!/bin/sh\nstart=$(date +%s%N)\nsh src/work.sh\nend=$(date +%s%N)\necho \"elapsed_ms: $(( (end - start) / 1000000 ))\"\n";

    // Deliberately noisy: prints 100, 200, 300, 100, … across runs (a counter in the job's private HOME), so its spread
    // is ±50% on both sides whatever the machine does.
    private const string Noisy =
        "#!/bin/sh\nn=$(cat \"$HOME/count\" 2>/dev/null || echo 0)\necho $((n + 1)) > \"$HOME/count\"\necho \"score: $((100 + 100 * (n % 3)))\"\n";

    // Half a second of work per run: a loaded machine's scheduling jitter (tens of milliseconds) stays a few percent.
    private static string TimedLine(int runs = 5) =>
        $"bugfix:\n  benchmarks:\n    - name: work\n      command: sh bench/time.sh\n      metric: 'elapsed_ms: (\\d+)'\n      tolerance: 25%\n      runs: {runs}\n      warmup: 0\n";

    private async Task<GateHarness> CreateAsync(string lines)
    {
        var gate = await GateHarness.CreateAsync(
            lines: lines,
            extraFiles: new Dictionary<string, string>
            {
                ["bench/time.sh"] = Timer,
                ["bench/noisy.sh"] = Noisy,
                ["src/work.sh"] = "#!/bin/sh\nsleep 0.5\n",
            },
            engine: Engine
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        return gate;
    }

    private static async Task<FactoryMcp.Ledger.Evidence.EvidenceRow> BenchmarkEvidenceAsync(GateHarness gate) =>
        (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Last(e =>
            e.Kind == "benchmark_report" && e.Origin == "server"
        );

    [Fact]
    public async Task PrReady_HonestChange_IsAccepted_SameAsBase_FiguresAttested()
    {
        using var gate = await CreateAsync(TimedLine());

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var evidence = await BenchmarkEvidenceAsync(gate);
        Assert.True(evidence.Summary.Contains("1 SAME"), evidence.Summary + "\n" + evidence.Content);
        Assert.Contains("benchmark `work`: median ", evidence.Content);
        Assert.Contains("5+5 runs", evidence.Content);
        Assert.Null((await gate.Factory.Services.Runs.GetAsync(gate.RunId)).ReviewReason);
        var stored = (await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!;
        var benchmark = JsonNode.Parse(Convert.FromBase64String(Dsse.Parse(stored.Envelope).Payload))!["predicate"]![
            "benchmarks"
        ]![0]!;
        Assert.Equal("work", (string?)benchmark["name"]);
        Assert.Equal("same", (string?)benchmark["outcome"]);
        Assert.Equal(5, benchmark["base"]!["samples"]!.AsArray().Count);
        Assert.InRange((double)benchmark["base"]!["median"]!, 450, 10_000);
    }

    [Fact]
    public async Task PrReady_SlowingAFunctionDown_IsRefusedNamingTheFigure()
    {
        using var gate = await CreateAsync(TimedLine(runs: 3));
        await gate.WriteAsync("src/work.sh", "#!/bin/sh\nsleep 1.5\n");

        var e = await gate.RefusedAsync();

        var problem = Assert.Single(e.Problems);
        Assert.Contains("benchmark `work`: median ", problem);
        Assert.Contains("lower is better", problem);
        Assert.Contains("tolerance 25.0%: **WORSE**", problem);
        Assert.Contains("head is worse than base beyond the tolerance", problem);
        Assert.Contains("1 WORSE", (await BenchmarkEvidenceAsync(gate)).Summary);
    }

    [Fact]
    public async Task PrReady_TooNoisyBenchmark_IsAccepted_ButAHumanMustReviewItEvenWithoutRequireReview()
    {
        using var gate = await CreateAsync(
            "bugfix:\n  require_review: false\n  benchmarks:\n    - name: noisy\n      command: sh bench/noisy.sh\n      metric: 'score: (\\d+)'\n      runs: 7\n      warmup: 0\n"
        );

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        Assert.Equal("awaiting_review", result.TaskState);
        Assert.Contains("although this line does not ask for one", result.Message);
        var run = await gate.Factory.Services.Runs.GetAsync(gate.RunId);
        Assert.Contains(
            "benchmark `noisy` was too noisy to tell whether head is worse than base beyond 5.0%",
            run.ReviewReason
        );
        var evidence = await BenchmarkEvidenceAsync(gate);
        Assert.Contains("1 TOO NOISY — a human must review this run", evidence.Summary);
        Assert.Contains("spread ±50.0% / ±50.0% (MAD)", evidence.Content);
        var bundle = await gate.Factory.Services.Bundles.BuildAsync(gate.RunId);
        Assert.Contains("**A HUMAN MUST REVIEW THIS RUN**: benchmark `noisy` was too noisy", bundle.Markdown);
        Assert.Contains("## Benchmarks, base → head", bundle.Markdown);
        var stored = (await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!;
        var statement = JsonNode.Parse(Convert.FromBase64String(Dsse.Parse(stored.Envelope).Payload))!;
        Assert.Equal("too_noisy", (string?)statement["predicate"]!["benchmarks"]![0]!["outcome"]);
    }

    [Fact]
    public async Task PrReady_BenchmarkPrintingNoFigureAtHead_IsRefused()
    {
        using var gate = await CreateAsync(TimedLine(runs: 3));
        await gate.WriteAsync("src/work.sh", "#!/bin/sh\nexit 3\n");
        await gate.WriteAsync("bench/time.sh", "#!/bin/sh\necho done\n"); // outside Scope as well

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p => p.Contains("benchmark `work` failed at head: nothing in the output matches `elapsed_ms: (\\d+)`")
        );
    }
}

public sealed class BenchmarkGateTestsOnSqlite() : BenchmarkGateTests(LedgerEngine.Sqlite);

public sealed class BenchmarkGateTestsOnPostgreSql() : BenchmarkGateTests(LedgerEngine.PostgreSql);
