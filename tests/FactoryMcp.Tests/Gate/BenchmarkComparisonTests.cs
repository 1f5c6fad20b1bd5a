using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tools.Gate.Benchmarks;

namespace FactoryMcp.Tests.Gate;

/// <summary>The noise-aware comparison of base and head, and how a figure is read from a benchmark's output.</summary>
public sealed class BenchmarkComparisonTests
{
    private static string Decide(
        double[] atBase,
        double[] atHead,
        string direction = "lower",
        double tolerance = 0.05
    ) => BenchmarkResult.Decide(new BenchmarkSide(atBase), new BenchmarkSide(atHead), direction, tolerance);

    [Fact]
    public void Decide_ClearSlowdown_IsWorse_ClearSpeedup_IsBetter()
    {
        Assert.Equal("worse", Decide([100, 101, 99, 100, 102], [130, 131, 129, 132, 130]));
        Assert.Equal("better", Decide([100, 101, 99, 100, 102], [70, 71, 69, 70, 72]));
    }

    [Fact]
    public void Decide_HigherIsBetter_FlipsTheSign()
    {
        Assert.Equal("worse", Decide([1000, 1010, 990], [700, 705, 695], direction: "higher"));
        Assert.Equal("better", Decide([700, 705, 695], [1000, 1010, 990], direction: "higher"));
    }

    [Fact]
    public void Decide_WithinToleranceAndQuiet_IsSame()
    {
        Assert.Equal("same", Decide([100, 101, 99, 100, 100], [102, 101, 103, 102, 102]));
    }

    [Fact]
    public void Decide_SpreadTooWideToTell_IsTooNoisy_EvenWhenTheMediansAgree()
    {
        Assert.Equal("too_noisy", Decide([100, 200, 300, 150, 250], [100, 200, 300, 150, 250]));
        // A 10% slowdown cannot be told from a 3% one with a ±8% spread.
        Assert.Equal("too_noisy", Decide([100, 92, 108, 100, 95], [110, 102, 118, 110, 105]));
    }

    [Fact]
    public void Decide_OneStrayRun_DoesNotMakeItNoisy()
    {
        Assert.Equal("same", Decide([100, 101, 99, 100, 400], [101, 100, 102, 100, 99]));
    }

    [Theory]
    [InlineData("warming up\nelapsed_ms: 212\n", "elapsed_ms: (\\d+)", 212)]
    [InlineData("took 1.5e2 ms", "took ([0-9.e]+) ms", 150)]
    [InlineData("42", "\\d+", 42)]
    [InlineData("{\"results\": [{\"median\": 3.25}]}", "$.results[0].median", 3.25)]
    [InlineData("log line\n{\"ops\": {\"per_second\": \"1200\"}}\n", "$.ops[\"per_second\"]", 1200)]
    public void MetricReader_RegexAndJsonPath_ReadTheFigure(string output, string metric, double expected)
    {
        var value = MetricReader.Read(output, new BenchmarkSettings { Command = "x", Metric = metric }, out _);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("nothing here", "elapsed: (\\d+)", "nothing in the output matches")]
    [InlineData("elapsed: fast", "elapsed: (\\w+)", "which is not a number")]
    [InlineData("no json", "$.a", "holds no JSON document")]
    [InlineData("{\"a\": {}}", "$.a.b", "nothing at $.a.b")]
    public void MetricReader_MissingFigure_SaysWhy(string output, string metric, string expected)
    {
        var value = MetricReader.Read(output, new BenchmarkSettings { Command = "x", Metric = metric }, out var why);
        Assert.Null(value);
        Assert.Contains(expected, why);
    }
}
