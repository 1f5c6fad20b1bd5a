using System.Text;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate.Coverage;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tools.Gate;

/// <summary>The reports a Validation run is read for: JUnit XML (per-test comparison) and a coverage report.</summary>
public sealed record ReportRequest(string? Junit, string? Coverage)
{
    public bool Any => Junit is not null || Coverage is not null;
}

/// <summary>
/// A Validation run with what its reports say: the test table read from the JUnit reports and the coverage table, or
/// why each could not be read.
/// </summary>
public sealed record ValidationRun(
    IReadOnlyList<CommandOutcome> Outcomes,
    TestTable? Tests,
    string? ReportProblem,
    IReadOnlyList<string> RemovedReports
)
{
    public CoverageTable? Coverage { get; init; }
    public string? CoverageProblem { get; init; }
}

public sealed partial class CommandRunner
{
    /// <summary>
    /// Runs Validation and reads the reports it wrote. Report files the commit itself carries are deleted first. Each
    /// table is cached beside the commands' results, under the key <c>junit PATTERN</c> or <c>coverage PATTERN</c> plus
    /// the commands, so a cached run (one base serves a whole queue) is not run again.
    /// </summary>
    public async Task<ValidationRun> RunWithReportsAsync(
        string checkout,
        IReadOnlyList<string> commands,
        string subject,
        CommandContext context,
        ReportRequest reports,
        Action<string> progress,
        CancellationToken ct
    )
    {
        var prepared = Prepare(context);
        if (await CachedAsync(commands, subject, prepared.EnvironmentHash, ct) is { } cached)
        {
            var tests = reports.Junit is { } j
                ? await CachedBlobAsync(subject, JunitKey(j, commands), prepared, ct)
                : null;
            var coverage = reports.Coverage is { } c
                ? await CachedBlobAsync(subject, CoverageKey(c, commands), prepared, ct)
                : null;
            if ((reports.Junit is null || tests is not null) && (reports.Coverage is null || coverage is not null))
                return new ValidationRun(cached, tests is null ? null : TestTable.FromJson(tests), null, [])
                {
                    Coverage = coverage is null ? null : CoverageTable.FromJson(coverage),
                };
        }

        var removed = new List<string>();
        if (reports.Junit is { } junit)
            removed.AddRange(await ReportFiles.RemoveCommittedAsync(checkout, junit, ct));
        if (reports.Coverage is { } coveragePattern)
            removed.AddRange(
                await ReportFiles.RemoveCommittedAsync(
                    checkout,
                    coveragePattern,
                    ct,
                    CoverageFiles.NameFilter(coveragePattern)
                )
            );
        var outcomes = await RunAllAsync(
            checkout,
            commands,
            subject,
            context,
            prepared,
            progress,
            stopAtFirstFailure: false,
            ct
        );
        var cacheable = !outcomes.Any(o => o.TimedOut);
        progress("reading reports");
        TestTable? table = null;
        string? reportProblem = null;
        if (reports.Junit is { } pattern)
        {
            try
            {
                table = await ReportFiles.ReadAsync(checkout, pattern, ct);
                if (cacheable)
                    await StoreBlobAsync(
                        subject,
                        JunitKey(pattern, commands),
                        table.Summary,
                        table.ToJson(),
                        context,
                        prepared,
                        ct
                    );
            }
            catch (ReportException e)
            {
                reportProblem = e.Message;
            }
        }
        CoverageTable? coverageTable = null;
        string? coverageProblem = null;
        if (reports.Coverage is { } coverageReport)
        {
            try
            {
                coverageTable = await CoverageFiles.ReadAsync(checkout, coverageReport, ct);
                if (cacheable)
                    await StoreBlobAsync(
                        subject,
                        CoverageKey(coverageReport, commands),
                        coverageTable.Summary,
                        coverageTable.ToJson(),
                        context,
                        prepared,
                        ct
                    );
            }
            catch (ReportException e)
            {
                coverageProblem = e.Message;
            }
        }
        return new ValidationRun(outcomes, table, reportProblem, removed)
        {
            Coverage = coverageTable,
            CoverageProblem = coverageProblem,
        };
    }

    private async Task<string?> CachedBlobAsync(string subject, string key, Prepared prepared, CancellationToken ct) =>
        await cache.FindAsync(subject, key, prepared.EnvironmentHash, ct) is { BlobSha: { } blob } && blobs.Exists(blob)
            ? Encoding.UTF8.GetString(blobs.Read(blob))
            : null;

    private Task StoreBlobAsync(
        string subject,
        string key,
        string summary,
        string json,
        CommandContext context,
        Prepared prepared,
        CancellationToken ct
    ) =>
        cache.StoreAsync(
            new CachedCommand
            {
                Subject = subject,
                Command = key,
                Environment = prepared.EnvironmentHash,
                ExitCode = 0,
                DurationMs = 0,
                Sandboxed = context.Sandbox,
                Output = summary,
                BlobSha = blobs.Put(Encoding.UTF8.GetBytes(json)),
            },
            ct
        );

    private static string JunitKey(string pattern, IReadOnlyList<string> commands) =>
        $"junit {pattern} after:\n{string.Join('\n', commands)}";

    private static string CoverageKey(string pattern, IReadOnlyList<string> commands) =>
        $"coverage {pattern} after:\n{string.Join('\n', commands)}";
}
