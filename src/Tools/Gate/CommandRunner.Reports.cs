using System.Text;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tools.Gate;

/// <summary>A Validation run with its tests: the table read from the JUnit reports, or why it could not be read.</summary>
public sealed record ValidationRun(
    IReadOnlyList<CommandOutcome> Outcomes,
    TestTable? Tests,
    string? ReportProblem,
    IReadOnlyList<string> RemovedReports
);

public sealed partial class CommandRunner
{
    /// <summary>
    /// Runs Validation and reads the JUnit reports it wrote (matching <paramref name="junitPattern"/>). Report files the
    /// commit itself carries are deleted first. The test table is cached beside the commands' results, under the key
    /// <c>junit PATTERN</c> plus the commands, so a cached run (one base serves a whole queue) is not run again.
    /// </summary>
    public async Task<ValidationRun> RunWithReportsAsync(
        string checkout,
        IReadOnlyList<string> commands,
        string subject,
        CommandContext context,
        string junitPattern,
        Action<string> progress,
        CancellationToken ct
    )
    {
        var prepared = Prepare(context);
        var key = ReportKey(junitPattern, commands);
        if (
            await CachedAsync(commands, subject, prepared.EnvironmentHash, ct) is { } cached
            && await cache.FindAsync(subject, key, prepared.EnvironmentHash, ct) is { BlobSha: { } tableBlob }
            && blobs.Exists(tableBlob)
        )
            return new ValidationRun(
                cached,
                TestTable.FromJson(Encoding.UTF8.GetString(blobs.Read(tableBlob))),
                null,
                []
            );

        var removed = await ReportFiles.RemoveCommittedAsync(checkout, junitPattern, ct);
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
        progress("reading test reports");
        TestTable table;
        try
        {
            table = await ReportFiles.ReadAsync(checkout, junitPattern, ct);
        }
        catch (ReportException e)
        {
            return new ValidationRun(outcomes, null, e.Message, removed);
        }
        if (!outcomes.Any(o => o.TimedOut))
            await cache.StoreAsync(
                new CachedCommand
                {
                    Subject = subject,
                    Command = key,
                    Environment = prepared.EnvironmentHash,
                    ExitCode = 0,
                    DurationMs = 0,
                    Sandboxed = context.Sandbox,
                    Output = table.Summary,
                    BlobSha = blobs.Put(Encoding.UTF8.GetBytes(table.ToJson())),
                },
                ct
            );
        return new ValidationRun(outcomes, table, null, removed);
    }

    private static string ReportKey(string pattern, IReadOnlyList<string> commands) =>
        $"junit {pattern} after:\n{string.Join('\n', commands)}";
}
