using System.Globalization;

namespace FactoryMcp.Bench.Report;

/// <summary>
/// One figure: a value per repetition (the table shows median, min and max), its unit, and the DESIGN
/// section 12 target when there is one. <see cref="Met"/> is null for figures that have no target.
/// </summary>
internal sealed record Figure(
    string Name,
    string Unit,
    IReadOnlyList<double> Values,
    string Target = "",
    bool? Met = null,
    string Note = ""
)
{
    public double Median => Percentile(0.5);
    public double Min => Values.Count == 0 ? double.NaN : Values.Min();
    public double Max => Values.Count == 0 ? double.NaN : Values.Max();

    public double Percentile(double p)
    {
        if (Values.Count == 0)
            return double.NaN;
        var sorted = Values.Order().ToList();
        var rank = p * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    /// <summary>A figure with a target: at most (<paramref name="atMost"/>) or at least the bound, judged on the median.</summary>
    public static Figure Bounded(
        string name,
        string unit,
        IReadOnlyList<double> values,
        double bound,
        bool atMost,
        string note = ""
    )
    {
        var figure = new Figure(name, unit, values, (atMost ? "≤ " : "≥ ") + Format(bound) + " " + unit, null, note);
        return figure with { Met = atMost ? figure.Median <= bound : figure.Median >= bound };
    }

    public static string Format(double value) =>
        double.IsNaN(value) ? "-"
        : Math.Abs(value) >= 1000 ? value.ToString("#,0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 100 ? value.ToString("0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 10 ? value.ToString("0.0", CultureInfo.InvariantCulture)
        : value.ToString("0.00#", CultureInfo.InvariantCulture);
}
