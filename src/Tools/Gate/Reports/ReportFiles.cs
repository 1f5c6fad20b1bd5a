using FactoryMcp.Ledger.Packets;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>
/// The JUnit files of a checkout that match a line's <c>reports.junit</c> pattern. Validation's own code wrote them,
/// so only regular <c>.xml</c> files are taken (never a symlink, FIFO or device: <c>find -type f</c> without
/// <c>-L</c> follows no link), outside <c>.git</c>, with caps on their number and size.
/// </summary>
public static class ReportFiles
{
    public const int MaxFiles = 500;
    public const long MaxTotalBytes = 128 * 1024 * 1024;

    /// <summary>Repository-relative paths of the matching files, sorted.</summary>
    public static async Task<IReadOnlyList<string>> FindAsync(
        string checkout,
        string pattern,
        CancellationToken ct,
        string? nameFilter = "*.xml"
    )
    {
        string[] name = nameFilter is null ? [] : ["-name", nameFilter];
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec("find", [".", "-path", "./.git", "-prune", "-o", "-type", "f", .. name, "-print0"])
            {
                WorkingDirectory = checkout,
                CaptureBytes = 8 * 1024 * 1024,
                Timeout = TimeSpan.FromSeconds(30),
            },
            ct
        );
        if (!result.Succeeded)
            throw new InvalidOperationException(
                $"could not list the checkout's report files: {result.StandardError.Trim()}"
            );
        if (result.Truncated)
            throw new ReportException(
                "the checkout holds too many files to look for reports in; write the reports to a folder of their own and name it"
            );
        var patterns = new PathPatterns([pattern]);
        return result
            .StandardOutput.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.StartsWith("./", StringComparison.Ordinal) ? p[2..] : p)
            .Where(patterns.Matches)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Removes report files the commit itself carries, so only what Validation writes is read afterwards.</summary>
    public static async Task<IReadOnlyList<string>> RemoveCommittedAsync(
        string checkout,
        string pattern,
        CancellationToken ct,
        string? nameFilter = "*.xml"
    )
    {
        var found = await FindAsync(checkout, pattern, ct, nameFilter);
        foreach (var path in found)
            File.Delete(Path.Combine(checkout, path));
        return found;
    }

    /// <summary>Reads every matching report into one table. Throws <see cref="ReportException"/> naming the file at fault.</summary>
    public static async Task<TestTable> ReadAsync(string checkout, string pattern, CancellationToken ct)
    {
        var found = await FindAsync(checkout, pattern, ct);
        if (found.Count == 0)
            throw new ReportException(
                $"no test report matched reports.junit `{pattern}` after Validation ran; Validation must write JUnit XML there (for pytest: --junitxml=...)"
            );
        if (found.Count > MaxFiles)
            throw new ReportException(
                $"{found.Count} files match reports.junit `{pattern}`; at most {MaxFiles} are read"
            );
        var reports = await ReadEachAsync(
            checkout,
            found,
            "test report",
            JunitReader.MaxFileBytes,
            MaxTotalBytes,
            (stream, path) => JunitReader.Read(stream, $"test report `{path}`")
        );
        var table = TestTable.Merge(reports);
        if (table.Tests.Count == 0)
            throw new ReportException(
                $"the test reports matching `{pattern}` ({string.Join(", ", found)}) hold no test case"
            );
        return table;
    }

    /// <summary>
    /// Reads each found report with <paramref name="read"/>, refusing a file over <paramref name="maxFileBytes"/>
    /// and a set over <paramref name="maxTotalBytes"/> (named "<paramref name="what"/>" in the refusal).
    /// </summary>
    internal static async Task<List<(string Path, T Content)>> ReadEachAsync<T>(
        string checkout,
        IReadOnlyList<string> found,
        string what,
        long maxFileBytes,
        long maxTotalBytes,
        Func<Stream, string, T> read
    )
    {
        var reports = new List<(string, T)>();
        long total = 0;
        foreach (var path in found)
        {
            await using var stream = new FileStream(
                Path.Combine(checkout, path),
                new FileStreamOptions
                {
                    Mode = FileMode.Open,
                    Access = FileAccess.Read,
                    Options = FileOptions.SequentialScan,
                }
            );
            if (stream.Length > maxFileBytes)
                throw new ReportException($"{what} `{path}` is {stream.Length} bytes; at most {maxFileBytes} are read");
            total += stream.Length;
            if (total > maxTotalBytes)
                throw new ReportException($"the {what}s add up to more than {maxTotalBytes} bytes");
            reports.Add((path, read(stream, path)));
        }
        return reports;
    }
}
