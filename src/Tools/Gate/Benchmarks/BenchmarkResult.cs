using System.Globalization;
using FactoryMcp.Ledger.Lines;

namespace FactoryMcp.Tools.Gate.Benchmarks;

/// <summary>How head compares with base on one benchmark (README, "Performance against base").</summary>
public static class BenchmarkOutcomes
{
    public const string Better = "better";
    public const string Same = "same";
    public const string Worse = "worse";
    public const string TooNoisy = "too_noisy";

    /// <summary>The base side failed or printed no figure: nothing to compare with.</summary>
    public const string NoBaseline = "no_baseline";

    /// <summary>The head side failed or printed no figure: refused.</summary>
    public const string Failed = "failed";
}

/// <summary>One side's measured samples: their median and median absolute deviation.</summary>
public sealed record BenchmarkSide(IReadOnlyList<double> Samples)
{
    public double Median => MedianOf(Samples);

    /// <summary>Median absolute deviation: the spread, robust to one stray run.</summary>
    public double Mad => Samples.Count == 0 ? 0 : MedianOf(Samples.Select(s => Math.Abs(s - Median)).ToList());

    /// <summary>The spread relative to the median (0.02 is ±2%).</summary>
    public double RelativeSpread => Median == 0 ? (Mad == 0 ? 0 : double.PositiveInfinity) : Mad / Math.Abs(Median);

    public static double MedianOf(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToList();
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>
/// One benchmark's comparison. <see cref="Change"/> is the relative change of the medians, signed so that positive is
/// worse (slower for <c>lower</c>, less for <c>higher</c>); <see cref="HalfWidth"/> is the half-width of its ≈95%
/// interval. Worse: the whole interval lies beyond the tolerance. Same (or better): the interval stays within it. Too
/// noisy: the interval straddles the tolerance — head may or may not be worse, and a human decides.
/// </summary>
public sealed record BenchmarkResult(
    string Name,
    string Command,
    string Metric,
    string Direction,
    double Tolerance,
    BenchmarkSide? Base,
    BenchmarkSide? Head,
    string Outcome,
    string? Failure = null
)
{
    /// <summary>
    /// 2 × 1.2533 × 1.4826: the standard error of a median is about 1.2533·σ/√n for normal data, and σ ≈ 1.4826·MAD.
    /// </summary>
    public const double IntervalFactor = 3.716;

    public double? Change =>
        Base is null || Head is null || Base.Median == 0
            ? null
            : (Head.Median - Base.Median) / Math.Abs(Base.Median) * (Direction == BenchmarkSettings.Higher ? -1 : 1);

    public double? HalfWidth =>
        Base is null || Head is null
            ? null
            : IntervalFactor
                / Math.Sqrt(Math.Min(Base.Samples.Count, Head.Samples.Count))
                * Math.Sqrt(Base.RelativeSpread * Base.RelativeSpread + Head.RelativeSpread * Head.RelativeSpread);

    /// <summary>The outcome of two complete sides.</summary>
    public static string Decide(BenchmarkSide atBase, BenchmarkSide atHead, string direction, double tolerance)
    {
        var probe = new BenchmarkResult("", "", "", direction, tolerance, atBase, atHead, "");
        if (probe.Change is not { } change || probe.HalfWidth is not { } h || !double.IsFinite(h))
            // A base median of 0 gives no relative change: equal sides are the same, anything else a human's call.
            return atBase.Median == atHead.Median && atBase.Mad == 0 && atHead.Mad == 0
                ? BenchmarkOutcomes.Same
                : BenchmarkOutcomes.TooNoisy;
        if (change - h > tolerance)
            return BenchmarkOutcomes.Worse;
        if (change + h < -tolerance)
            return BenchmarkOutcomes.Better;
        if (change + h <= tolerance)
            return BenchmarkOutcomes.Same;
        return BenchmarkOutcomes.TooNoisy;
    }

    /// <summary>One line a reviewer reads: medians, change, spread, interval, outcome.</summary>
    public string Describe()
    {
        if (Base is null || Head is null)
            return $"benchmark `{Name}`: {Outcome.Replace('_', ' ')}{(Failure is { } f ? $" ({f})" : "")}";
        var better = Direction == BenchmarkSettings.Higher ? "higher is better" : "lower is better";
        var change = Change is { } c
            ? $" ({Percent(c * (Direction == BenchmarkSettings.Higher ? -1 : 1), signed: true)})"
            : "";
        var interval =
            Change is { } ch && HalfWidth is { } h && double.IsFinite(h)
                ? $", worse by {Percent(ch - h, signed: true)} to {Percent(ch + h, signed: true)} (≈95% interval)"
                : "";
        return $"benchmark `{Name}`: median {Number(Base.Median)} at base → {Number(Head.Median)} at head{change}, {better}; spread ±{Percent(Base.RelativeSpread)} / ±{Percent(Head.RelativeSpread)} (MAD), {Base.Samples.Count}+{Head.Samples.Count} runs{interval}; tolerance {Percent(Tolerance)}: **{Outcome.Replace('_', ' ').ToUpperInvariant()}**";
    }

    public static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    public static string Percent(double fraction, bool signed = false) =>
        double.IsFinite(fraction)
            ? (signed && fraction >= 0 ? "+" : "")
                + (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture)
                + "%"
            : "∞";
}
