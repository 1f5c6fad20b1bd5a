using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// Group commit (LedgerDatabase.WriteAsync): writes that queue while a transaction holds the lock run in the next
/// batch, one transaction and one commit, each undone alone when it fails, each answered only after the commit.
/// </summary>
public abstract class GroupCommitTests(LedgerEngine engine) : EngineTests(engine)
{
    private const int Queued = 10;

    [Fact]
    public async Task WritesQueuedBehindATransaction_CommitTogether_AndAreAnsweredOnlyAfterThatCommit()
    {
        using var factory = await CreateFactoryAsync();
        var db = factory.Services.Db;
        await using var holder = await HoldTheLockAsync(db);
        var commitsBefore = db.Commits;

        var writes = Enumerable.Range(0, Queued).Select(i => Remember(db, $"batch-{i}")).ToList();
        await WaitUntilQueuedAsync(db, Queued);
        Assert.All(writes, w => Assert.False(w.IsCompleted)); // nobody answered before the commit

        await holder.ReleaseAsync();
        await Task.WhenAll(writes);

        Assert.Equal(2, db.Commits - commitsBefore); // the holder's transaction, then one for all ten
        Assert.Equal(
            Enumerable.Range(0, Queued).Select(i => $"batch-{i}"),
            await RememberedAsync(db, "batch-") // in arrival order: the audit chain orders them
        );
        await AssertVerifiesAsync(db);
    }

    [Fact]
    public async Task ARefusedWriteInABatch_IsUndoneAlone_AndTheOthersCommit()
    {
        using var factory = await CreateFactoryAsync();
        var db = factory.Services.Db;
        await using var holder = await HoldTheLockAsync(db);

        var writes = Enumerable
            .Range(0, Queued)
            .Select(i =>
                i == 4
                    ? db.WriteAsync(
                        "test",
                        async w =>
                        {
                            await Insert(w, "refused-4");
                            throw new LedgerException("refused by its rule");
                        }
                    )
                    : Remember(db, $"refused-{i}")
            )
            .ToList();
        await WaitUntilQueuedAsync(db, Queued);
        await holder.ReleaseAsync();

        var refused = await Assert.ThrowsAsync<LedgerException>(() => writes[4]);
        Assert.Equal("refused by its rule", refused.Message);
        await Task.WhenAll(writes.Where((_, i) => i != 4));
        Assert.Equal(
            Enumerable.Range(0, Queued).Where(i => i != 4).Select(i => $"refused-{i}"),
            await RememberedAsync(db, "refused-")
        );
        await AssertVerifiesAsync(db);
    }

    [Fact]
    public async Task AWriteTheDatabaseRejectsInABatch_IsUndoneAlone_AndTheTransactionGoesOn()
    {
        // On PostgreSQL a failed statement aborts the transaction: only the savepoint lets the rest commit.
        using var factory = await CreateFactoryAsync();
        var db = factory.Services.Db;
        await using var holder = await HoldTheLockAsync(db);

        var writes = Enumerable
            .Range(0, Queued)
            .Select(i => Remember(db, i == 3 ? "environment" : $"unique-{i}")) // meta's key: already there
            .ToList();
        await WaitUntilQueuedAsync(db, Queued);
        await holder.ReleaseAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => writes[3]);
        await Task.WhenAll(writes.Where((_, i) => i != 3));
        Assert.Equal(9, (await RememberedAsync(db, "unique-")).Count);
        Assert.Equal(db.Environment, db.ReadMeta("environment"));
        await AssertVerifiesAsync(db);
    }

    [Fact]
    public async Task ACallerThatGivesUpWhileQueued_IsNeverWritten()
    {
        using var factory = await CreateFactoryAsync();
        var db = factory.Services.Db;
        await using var holder = await HoldTheLockAsync(db);
        using var giveUp = new CancellationTokenSource();

        var kept = Remember(db, "kept-0");
        var abandoned = db.WriteAsync("test", w => Insert(w, "kept-1"), giveUp.Token);
        await WaitUntilQueuedAsync(db, 2);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        await holder.ReleaseAsync();
        await kept;
        Assert.Equal(["kept-0"], await RememberedAsync(db, "kept-"));
        await AssertVerifiesAsync(db);
    }

    private static Task<int> Remember(LedgerDatabase db, string key) => db.WriteAsync("test", w => Insert(w, key));

    private static async Task<int> Insert(LedgerWrite w, string key)
    {
        await w.ExecuteAsync("INSERT INTO meta (key, value) VALUES (@key, 'x')", SqlArgs.Of(new { key }));
        await w.AuditAsync("test.remembered", "ledger", null, new { key });
        return 1;
    }

    private static async Task<List<string>> RememberedAsync(LedgerDatabase db, string prefix)
    {
        var bodies = await db.QueryAsync<string>(
            "SELECT body FROM audit WHERE action = 'test.remembered' ORDER BY seq"
        );
        var keys = bodies
            .Select(b => System.Text.Json.JsonDocument.Parse(b).RootElement.GetProperty("change").GetProperty("key"))
            .Select(k => k.GetString()!)
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
        var rows = await db.QueryAsync<string>(
            "SELECT key FROM meta WHERE key LIKE @prefix ORDER BY key",
            SqlArgs.Of(new { prefix = prefix + "%" })
        );
        Assert.Equal(keys.Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal)); // row and audit agree
        return keys;
    }

    private static async Task AssertVerifiesAsync(LedgerDatabase db)
    {
        var report = await AuditVerifier.VerifyAsync(db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
    }

    private static async Task WaitUntilQueuedAsync(LedgerDatabase db, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (db.Waiting < count)
            await Task.Delay(5, timeout.Token);
    }

    /// <summary>A write that holds the lock (inside its transaction) until released.</summary>
    private static async Task<Holder> HoldTheLockAsync(LedgerDatabase db)
    {
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var write = db.WriteAsync(
            "test",
            async w =>
            {
                inside.SetResult();
                await release.Task;
                return await Insert(w, "holder");
            }
        );
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new Holder(release, write);
    }

    private sealed class Holder(TaskCompletionSource release, Task<int> write) : IAsyncDisposable
    {
        public async Task ReleaseAsync()
        {
            release.TrySetResult();
            await write;
        }

        public async ValueTask DisposeAsync() => await ReleaseAsync();
    }
}

public sealed class GroupCommitTestsOnSqlite() : GroupCommitTests(LedgerEngine.Sqlite);

public sealed class GroupCommitTestsOnPostgreSql() : GroupCommitTests(LedgerEngine.PostgreSql);
