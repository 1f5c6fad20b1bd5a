using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tools.Gate.Coverage;

/// <summary>
/// The coverage report(s) of a checkout matching a line's <c>coverage.report</c> pattern, found as the JUnit reports
/// are (regular files only, never a link, outside <c>.git</c>, capped) and merged into one table.
/// </summary>
public static class CoverageFiles
{
    public const int MaxFiles = 200;
    public const long MaxTotalBytes = 256 * 1024 * 1024;

    /// <summary>
    /// A <c>find -name</c> pre-filter: the pattern's last segment when it names a file (holds a dot), else none (a
    /// folder pattern lists the whole checkout, so name the file where you can).
    /// </summary>
    public static string? NameFilter(string pattern)
    {
        if (pattern.EndsWith('/'))
            return null;
        var last = pattern[(pattern.LastIndexOf('/') + 1)..];
        return last.Contains('.') && last != "**" ? last : null;
    }

    public static async Task<CoverageTable> ReadAsync(string checkout, string pattern, CancellationToken ct)
    {
        var found = await ReportFiles.FindAsync(checkout, pattern, ct, NameFilter(pattern));
        if (found.Count == 0)
            throw new ReportException(
                $"no coverage report matched coverage.report `{pattern}` after Validation ran; Validation must write it (for coverage.py: python3 -m coverage xml -o {pattern})"
            );
        if (found.Count > MaxFiles)
            throw new ReportException(
                $"{found.Count} files match coverage.report `{pattern}`; at most {MaxFiles} are read"
            );
        var map = new PathMap(checkout);
        var reports = await ReportFiles.ReadEachAsync(
            checkout,
            found,
            "coverage report",
            CoverageReader.MaxFileBytes,
            MaxTotalBytes,
            (stream, path) => CoverageReader.Read(stream, $"coverage report `{path}`", map).AsEnumerable()
        );
        var table = CoverageTable.Merge(reports);
        if (table.Coverable == 0)
            throw new ReportException(
                $"the coverage reports matching `{pattern}` ({string.Join(", ", found)}) hold no coverable line"
            );
        return table;
    }
}
