using FactoryMcp.Ledger.Lines;

namespace FactoryMcp.Tools.Gate.Coverage;

/// <summary>Covered and coverable lines, and their percentage (null when nothing is coverable).</summary>
public sealed record LineCount(int Covered, int Coverable)
{
    public double? Percent => Coverable == 0 ? null : Math.Round(100.0 * Covered / Coverable, 2);

    public override string ToString() => $"{CoverageTable.Format(Percent)} ({Covered} of {Coverable} lines)";
}

/// <summary>The uncovered changed lines of one file, as ranges (<c>12, 15-17</c>).</summary>
public sealed record UncoveredLines(string File, string Lines, int Count);

/// <summary>
/// What the coverage check found (README, "Coverage"): total line coverage at head (and base when read), coverage of
/// the changed lines, the uncovered changed lines file by file, and every unmet threshold as a problem.
/// </summary>
public sealed record CoverageFigures(
    CoverageSettings Settings,
    LineCount Head,
    LineCount? Base,
    LineCount Changed,
    IReadOnlyList<UncoveredLines> Uncovered,
    IReadOnlyList<string> Problems
)
{
    /// <summary>Refusal lists stop after this many files of uncovered lines (the evidence holds them all).</summary>
    private const int ListedFiles = 20;

    public static CoverageFigures Compute(
        CoverageSettings settings,
        CoverageTable head,
        CoverageTable? atBase,
        IReadOnlyDictionary<string, IReadOnlySet<int>> changed
    )
    {
        var headCount = new LineCount(head.Covered, head.Coverable);
        var baseCount = atBase is null ? null : new LineCount(atBase.Covered, atBase.Coverable);
        int covered = 0,
            coverable = 0;
        var uncovered = new List<UncoveredLines>();
        foreach (var (file, lines) in changed.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            // Only lines the report calls coverable count: comments, blank lines and files it does not cover do not.
            if (!head.Files.TryGetValue(file, out var hits))
                continue;
            var missed = new List<int>();
            foreach (var line in lines)
            {
                if (!hits.TryGetValue(line, out var count))
                    continue;
                coverable++;
                if (count > 0)
                    covered++;
                else
                    missed.Add(line);
            }
            if (missed.Count > 0)
                uncovered.Add(new UncoveredLines(file, ChangedLines.Ranges(missed), missed.Count));
        }
        var changedCount = new LineCount(covered, coverable);
        var problems = new List<string>();
        var report = settings.Report;
        if (settings.MinLine is { } minLine && (headCount.Percent ?? 0) < minLine)
            problems.Add(
                $"line coverage at head is {headCount}, below coverage.min_line {minLine}% (report `{report}`); cover the code with tests"
            );
        if (
            settings.MinChangedLines is { } minChanged
            && changedCount.Percent is { } changedPercent
            && changedPercent < minChanged
        )
            problems.Add(
                $"coverage of the changed lines is {changedCount}, below coverage.min_changed_lines {minChanged}%; uncovered changed lines: {List(uncovered)}"
            );
        if (settings.NoDecrease && baseCount?.Percent is { } basePercent && (headCount.Percent ?? 0) < basePercent)
            problems.Add(
                $"line coverage fell from {baseCount} at base to {headCount} at head (coverage.no_decrease){(uncovered.Count > 0 ? $"; uncovered changed lines: {List(uncovered)}" : "")}"
            );
        return new CoverageFigures(settings, headCount, baseCount, changedCount, uncovered, problems);
    }

    public static string List(IReadOnlyList<UncoveredLines> uncovered) =>
        string.Join("; ", uncovered.Take(ListedFiles).Select(u => $"{u.File}:{u.Lines}"))
        + (
            uncovered.Count > ListedFiles
                ? $"; … {uncovered.Count - ListedFiles} more file(s) in the coverage evidence"
                : ""
        );
}
