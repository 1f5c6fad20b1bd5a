using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Triggers;

/// <summary>
/// Every validation's per-test outcomes, kept per (test, commit) for flaky-test detection (README, "Triggers"):
/// a JUnit test case, or, without JUnit reports, each Validation command's exit as a test named by the command.
/// </summary>
public sealed class TestResultLedger(LedgerDatabase db)
{
    public sealed record Result(string Test, bool Passed);

    public sealed record HistoryRow
    {
        public required string CommitSha { get; init; }
        public required long PassedFlag { get; init; }
        public bool Passed => PassedFlag != 0;
        public required long JobId { get; init; }
        public required DateTimeOffset RecordedAt { get; init; }
    }

    /// <summary>Records one validation job's results (a job recorded twice adds nothing).</summary>
    public Task RecordAsync(
        long jobId,
        string repo,
        string line,
        string commit,
        IReadOnlyList<Result> results,
        CancellationToken ct = default
    ) =>
        results.Count == 0
            ? Task.CompletedTask
            : db.WriteAsync(
                "server:tests",
                async w =>
                {
                    var added = 0;
                    foreach (var r in results)
                        added += await w.ExecuteAsync(
                            """
                            INSERT INTO test_results (repo, line, test, commit_sha, passed, job_id, recorded_at)
                            VALUES (@repo, @line, @test, @commit, @passed, @jobId, @now)
                            ON CONFLICT (job_id, test, commit_sha) DO NOTHING
                            """,
                            SqlArgs.Of(
                                new
                                {
                                    repo,
                                    line,
                                    test = r.Test,
                                    commit,
                                    passed = r.Passed ? 1 : 0,
                                    jobId,
                                    now = w.NowText,
                                }
                            )
                        );
                    if (added > 0)
                        await w.AuditAsync(
                            "tests.recorded",
                            "validation_job",
                            jobId,
                            new JsonObject
                            {
                                ["commit"] = commit,
                                ["tests"] = added,
                                ["failed"] = results.Count(r => !r.Passed),
                            }
                        );
                },
                ct
            );

    /// <summary>Tests of <paramref name="repo"/> that ever failed on <paramref name="commit"/>.</summary>
    public async Task<IReadOnlySet<string>> FailedOnAsync(string repo, string commit, CancellationToken ct = default) =>
        (
            await db.QueryAsync<string>(
                "SELECT DISTINCT test FROM test_results WHERE repo = @repo AND commit_sha = @commit AND passed = 0",
                SqlArgs.Of(new { repo, commit }),
                ct
            )
        ).ToHashSet(StringComparer.Ordinal);

    /// <summary>The newest <paramref name="window"/> results of a test, newest first.</summary>
    public async Task<IReadOnlyList<HistoryRow>> HistoryAsync(
        string repo,
        string test,
        int window,
        CancellationToken ct = default
    ) =>
        (
            await db.QueryAsync<HistoryRow>(
                """
                SELECT commit_sha AS CommitSha, passed AS PassedFlag, job_id AS JobId, recorded_at AS RecordedAt
                FROM test_results WHERE repo = @repo AND test = @test ORDER BY id DESC LIMIT @window
                """,
                SqlArgs.Of(
                    new
                    {
                        repo,
                        test,
                        window,
                    }
                ),
                ct
            )
        ).ToList();

    private sealed record FlakySignal
    {
        public required long Id { get; init; }
        public required long Open { get; init; }
    }

    /// <summary>
    /// How many flaky-test signals of <paramref name="key"/> exist (the key itself and its later <c>KEY#n</c>), and
    /// whether one is still open: not dismissed, and with no task or a task not yet ended.
    /// </summary>
    public async Task<(long Count, bool Open)> FlakySignalsAsync(string key, CancellationToken ct = default)
    {
        var rows = (
            await db.QueryAsync<FlakySignal>(
                """
                SELECT s.id AS Id,
                       CAST(CASE WHEN s.status <> 'dismissed' AND (
                           NOT EXISTS (SELECT 1 FROM tasks t WHERE t.signal_id = s.id)
                           OR EXISTS (SELECT 1 FROM tasks t WHERE t.signal_id = s.id
                                      AND t.state NOT IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced')))
                       THEN 1 ELSE 0 END AS BIGINT) AS Open
                FROM signals s
                WHERE s.source = 'flaky' AND substr(s.external_id, 1, @len) = @key
                  AND (length(s.external_id) = @len OR substr(s.external_id, @len + 1, 1) = '#')
                """,
                SqlArgs.Of(new { key, len = key.Length }),
                ct
            )
        ).ToList();
        return (rows.Count, rows.Any(r => r.Open == 1));
    }
}
