using System.Globalization;
using System.Text.RegularExpressions;

namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// One benchmark of a line (README, "Performance against base"), an item of <c>benchmarks:</c> in <c>lines.yaml</c>:
/// a command run at base and at head, alternating, whose output holds one figure (<c>metric</c>: a regular expression
/// whose first group, or whole match, is the number; or a JSON path such as <c>$.results[0].median</c>).
/// </summary>
public sealed record BenchmarkSettings
{
    public const string Lower = "lower";
    public const string Higher = "higher";
    public const int MaxPerLine = 10;

    /// <summary>How the benchmark is named in evidence and refusals (default: the command).</summary>
    public string? Name { get; set; }
    public string? Command { get; set; }
    public string? Metric { get; set; }

    /// <summary><c>lower</c> (a time: lower is better, the default) or <c>higher</c> (a throughput).</summary>
    public string Direction { get; set; } = Lower;

    /// <summary>How much worse head may be, in percent of base's median: <c>5%</c> or <c>5</c>.</summary>
    public string Tolerance { get; set; } = "5%";

    /// <summary>Measured runs per side (base and head each), alternating.</summary>
    public int Runs { get; set; } = 5;

    /// <summary>Runs per side before measuring, discarded (a first build, cold caches).</summary>
    public int Warmup { get; set; } = 1;

    public string Label() => string.IsNullOrWhiteSpace(Name) ? Command?.Trim() ?? "" : Name.Trim();

    public bool UsesJsonPath() => Metric?.TrimStart().StartsWith('$') == true;

    /// <summary>The tolerance as a fraction (5% is 0.05), or null when it is not a number.</summary>
    public double? ToleranceFraction()
    {
        var text = Tolerance.Trim().TrimEnd('%').Trim();
        return
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
            && double.IsFinite(percent)
            ? percent / 100
            : null;
    }

    /// <summary>Refuses benchmarks no line can have, naming the item and the key.</summary>
    public IEnumerable<string> Problems(string line, int index)
    {
        var at = $"line {line}: benchmarks[{index}]";
        if (string.IsNullOrWhiteSpace(Command) || Command.Contains('\n'))
            yield return $"{at}.command must be one non-empty command line";
        if (string.IsNullOrWhiteSpace(Metric))
            yield return $"{at}.metric must be a regular expression (its first group, or whole match, is the number) or a JSON path such as $.median";
        else if (UsesJsonPath())
        {
            if (JsonPath.Parse(Metric) is null)
                yield return $"{at}.metric '{Metric}' is not a JSON path of the form $.key.key[0]";
        }
        else if (!IsValidRegex(Metric))
            yield return $"{at}.metric '{Metric}' is not a valid regular expression";
        if (Direction is not (Lower or Higher))
            yield return $"{at}.direction must be `lower` (lower is better: times) or `higher` (throughput), not '{Direction}'";
        if (ToleranceFraction() is not { } t || t <= 0 || t > 10)
            yield return $"{at}.tolerance must be a percentage above 0 and at most 1000, such as 5%, not '{Tolerance}'";
        if (Runs is < 3 or > 30)
            yield return $"{at}.runs must be between 3 and 30 (measured runs per side), not {Runs}";
        if (Warmup is < 0 or > 5)
            yield return $"{at}.warmup must be between 0 and 5, not {Warmup}";
    }

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
