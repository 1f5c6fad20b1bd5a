namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// Coverage thresholds of a line (README, "Coverage"), under <c>coverage:</c> in a line of <c>lines.yaml</c>. The
/// report Validation writes (Cobertura XML or LCOV) is read at head, and at base too when <c>no_decrease</c> holds.
/// Percentages are of coverable lines, 0 to 100.
/// </summary>
public sealed record CoverageSettings
{
    /// <summary>A path pattern (gitignore semantics, relative to the checkout's root) of the report file(s).</summary>
    public string? Report { get; set; }

    /// <summary>Least total line coverage at head, in percent.</summary>
    public double? MinLine { get; set; }

    /// <summary>Least coverage of the lines the change adds or modifies, in percent.</summary>
    public double? MinChangedLines { get; set; }

    /// <summary>Total line coverage at head may not fall below base's.</summary>
    public bool NoDecrease { get; set; }

    /// <summary>Refuses settings no line can have, naming the key.</summary>
    public IEnumerable<string> Problems(string line)
    {
        var report = Report?.Trim();
        if (string.IsNullOrEmpty(report))
            yield return $"line {line}: coverage.report must name the report Validation writes, such as coverage.xml or coverage/lcov.info";
        else if (report.Length > 300 || report.Contains('\n'))
            yield return $"line {line}: coverage.report must be one path pattern of at most 300 characters";
        else if (report.StartsWith('!'))
            yield return $"line {line}: coverage.report must name files, not exclude them ('{report}')";
        else if (report.Split('/').Contains(".."))
            yield return $"line {line}: coverage.report must stay inside the checkout ('..' is not allowed): '{report}'";
        foreach (var (key, value) in new[] { ("min_line", MinLine), ("min_changed_lines", MinChangedLines) })
            if (value is { } v && (double.IsNaN(v) || v < 0 || v > 100))
                yield return $"line {line}: coverage.{key} is a percentage between 0 and 100, not {v}";
        if (MinLine is null && MinChangedLines is null && !NoDecrease)
            yield return $"line {line}: coverage needs at least one of min_line, min_changed_lines or no_decrease: true (otherwise it checks nothing)";
    }
}
