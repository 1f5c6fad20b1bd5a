using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using Npgsql;

namespace FactoryMcp.Tests.Ledger;

/// <summary>What only a PostgreSQL ledger has: its schema's guard rails, connection errors, retries, its clock and blobs.</summary>
public sealed class PostgresLedgerTests : IAsyncLifetime
{
    private readonly TempDirectory dir = new();
    private string url = "";

    public async ValueTask InitializeAsync() => url = await PostgresCluster.CreateDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        await PostgresCluster.DropDatabaseAsync(url);
        dir.Dispose();
    }

    private LedgerPaths Paths(string? ledgerUrl = null) =>
        new(PostgresLocation.Parse(ledgerUrl ?? url), dir.Combine(".factory"));

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresCluster.Admin(PostgresLocation.Parse(url).Database));
        await connection.OpenAsync();
        await connection.ExecuteAsync(sql);
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresCluster.Admin(PostgresLocation.Parse(url).Database));
        await connection.OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }

    [Fact]
    public async Task Create_MigratesEveryNumberedMigration_AndOpenFindsTheSameLedger()
    {
        var db = LedgerDatabase.Create(Paths(), "test");
        Assert.Equal(LedgerEngine.PostgreSql, db.Engine);
        Assert.Equal(
            LedgerDatabase.KnownSchemaVersion,
            await ScalarAsync<int>("SELECT max(version) FROM factory_schema")
        );
        Assert.Equal(LedgerDatabase.KnownSchemaVersion, await ScalarAsync<int>("SELECT count(*) FROM factory_schema"));
        Assert.Equal("test", LedgerDatabase.Open(Paths()).Environment);
        Assert.True(File.Exists(Paths().AuditKey));
    }

    [Fact]
    public void Open_WhenTheDatabaseHoldsNoLedger_RefusesSayingHowToCreateOne()
    {
        var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Open(Paths()));
        Assert.Contains("holds no factory ledger", e.Message);
        Assert.Contains("factory init --ledger", e.Message);
    }

    [Fact]
    public async Task Create_OnADatabaseOfAnotherApplication_RefusesAndChangesNothing()
    {
        await ExecuteAsync("CREATE TABLE customers (id int); CREATE TABLE orders (id int)");
        var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Create(Paths(), "test"));
        Assert.Contains("another application's tables (customers, orders)", e.Message);
        Assert.Equal(
            2,
            await ScalarAsync<long>("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        );
    }

    [Fact]
    public void Create_OnADatabaseThatHoldsAFactory_RefusesAndLeavesItAlone()
    {
        LedgerDatabase.Create(Paths(), "test");
        var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Create(Paths(), "live"));
        Assert.Contains("already exists", e.Message);
        Assert.Equal("test", LedgerDatabase.Open(Paths()).Environment);
    }

    [Fact]
    public async Task Open_WhenTheSchemaIsNewerThanTheBinary_Refuses()
    {
        LedgerDatabase.Create(Paths(), "test");
        await ExecuteAsync(
            $"INSERT INTO factory_schema (version, applied_at) VALUES ({LedgerDatabase.KnownSchemaVersion + 1}, 'later')"
        );
        var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Open(Paths()));
        Assert.Contains("newer than this factory binary", e.Message);
    }

    [Fact]
    public async Task Migrate_SixProcessesStartingTogether_MigrateOnce()
    {
        var migrations = LedgerDatabase.MigrationsFor(LedgerEngine.PostgreSql);
        var stores = Enumerable.Range(0, 6).Select(_ => new PostgresStore(PostgresLocation.Parse(url))).ToList();
        using var start = new Barrier(stores.Count);
        await Task.WhenAll(
            stores.Select(s =>
                Task.Run(() =>
                {
                    start.SignalAndWait();
                    s.Migrate(migrations, LedgerDatabase.KnownSchemaVersion);
                })
            )
        );
        Assert.Equal(LedgerDatabase.KnownSchemaVersion, await ScalarAsync<long>("SELECT count(*) FROM factory_schema"));
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM pg_proc WHERE proname = 'julianday'"));
    }

    [Fact]
    public void Url_WithAPassword_IsRefusedWithoutRepeatingIt()
    {
        var e = Assert.Throws<LedgerException>(() =>
            PostgresLocation.Parse("postgresql://me:hunter2@db.example:5432/factory")
        );
        Assert.Contains("PGPASSWORD", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.Throws<LedgerException>(() =>
            PostgresLocation.Parse("postgresql://me@db.example/factory?password=hunter2")
        );
        Assert.Throws<LedgerException>(() => PostgresLocation.Parse("postgresql://me@db.example:5432/"));
    }

    [Fact]
    public void Open_WhenTheServerIsUnreachable_SaysSo()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var e = Assert.Throws<LedgerException>(() =>
            LedgerDatabase.Open(Paths($"postgresql://factory@127.0.0.1:{port}/factory"))
        );
        Assert.Contains($"Cannot reach the PostgreSQL server at 127.0.0.1:{port}", e.Message);
    }

    [Fact]
    public void Open_WhenTheDatabaseDoesNotExist_SaysHowToCreateIt()
    {
        var e = Assert.Throws<LedgerException>(() =>
            LedgerDatabase.Open(Paths(PostgresCluster.Url("no_such_database")))
        );
        Assert.Contains("has no database no_such_database", e.Message);
        Assert.Contains("createdb no_such_database", e.Message);
    }

    [Fact]
    public void Open_WithWrongCredentials_SaysWhereThePasswordComesFrom_AndNeverShowsIt()
    {
        var database = PostgresLocation.Parse(url).Database;
        var secured = PostgresCluster.Url(database, PostgresCluster.SecuredUser);
        var secret = dir.Combine("password");
        File.WriteAllText(secret, "wrong password\n");
        lock (EnvironmentGate)
        {
            Environment.SetEnvironmentVariable(PostgresLocation.PasswordFileVariable, secret);
            try
            {
                var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Open(Paths(secured)));
                Assert.Contains("refused user secured's credentials", e.Message);
                Assert.DoesNotContain("wrong password", e.Message);

                File.WriteAllText(secret, PostgresCluster.SecuredPassword + "\n");
                var none = Assert.Throws<LedgerException>(() => LedgerDatabase.Open(Paths(secured)));
                Assert.Contains("holds no factory ledger", none.Message);
            }
            finally
            {
                Environment.SetEnvironmentVariable(PostgresLocation.PasswordFileVariable, null);
            }
        }
    }

    private static readonly object EnvironmentGate = new();

    [Fact]
    public async Task Write_WhenItsConnectionDropsMidTransaction_IsRetriedWhole_AndLandsOnce()
    {
        var db = LedgerDatabase.Create(Paths(), "test");
        var attempts = 0;
        var result = await db.WriteAsync(
            "test",
            async w =>
            {
                attempts++;
                await w.ExecuteAsync(
                    "INSERT INTO meta (key, value) VALUES ('dropped', @attempt)",
                    SqlArgs.Of(new { attempt = attempts.ToString() })
                );
                if (attempts == 1)
                    await w.ExecuteAsync("SELECT pg_terminate_backend(pg_backend_pid())");
                return attempts;
            }
        );
        Assert.Equal(2, result);
        Assert.Equal("2", await ScalarAsync<string>("SELECT string_agg(value, ',') FROM meta WHERE key = 'dropped'"));
    }

    [Fact]
    public async Task Write_ALedgerExceptionRollsBackEverything()
    {
        var db = LedgerDatabase.Create(Paths(), "test");
        await Assert.ThrowsAsync<LedgerException>(() =>
            db.WriteAsync(
                "test",
                async w =>
                {
                    await w.ExecuteAsync("INSERT INTO meta (key, value) VALUES ('half', 'written')");
                    throw new LedgerException("refused");
                }
            )
        );
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM meta WHERE key = 'half'"));
    }

    [Fact]
    public void DatabaseClock_OnAHostWhoseClockIsTwoHoursOff_ReadsTheServersTime()
    {
        var store = new PostgresStore(PostgresLocation.Parse(url));
        var clock = new DatabaseClock(store, new SkewedClock(TimeSpan.FromHours(2)));
        Assert.InRange(
            clock.Offset,
            TimeSpan.FromHours(-2) - TimeSpan.FromSeconds(2),
            TimeSpan.FromHours(-2) + TimeSpan.FromSeconds(2)
        );
        Assert.InRange(clock.GetUtcNow() - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(-2), TimeSpan.FromSeconds(2));
        // The same host as the server: no offset at all, so timestamps are the host's to the millisecond.
        Assert.Equal(TimeSpan.Zero, new DatabaseClock(store, TimeProvider.System).Offset);
    }

    private sealed class SkewedClock(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }

    [Fact]
    public void DatabaseClock_OnALoadedHostThatPausesAfterReadingItsClock_MeasuresNoOffset()
    {
        // Every reading of the host's clock is followed by a 300 ms pause (a thread preempted right after it, as on a
        // loaded machine): the server's clock, read during the pause that follows, must not pass for an offset. Two
        // processes on one host that measured different offsets would write leases on different clocks.
        var store = new PostgresStore(PostgresLocation.Parse(url));
        var clock = new DatabaseClock(store, new PausingClock(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(TimeSpan.Zero, clock.Offset);
    }

    private sealed class PausingClock(TimeSpan pause) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow()
        {
            var now = System.GetUtcNow();
            Thread.Sleep(pause);
            return now;
        }
    }

    [Fact]
    public async Task Blobs_AreStoredInChunks_Deduplicated_AndStreamedBack()
    {
        var db = LedgerDatabase.Create(Paths(), "test");
        var blobs = new BlobStore(db.Paths);
        var bytes = new byte[PostgresBlobs.ChunkBytes * 4 + 1000];
        new Random(7).NextBytes(bytes);
        var sha = await blobs.PutAsync(new MemoryStream(bytes));
        Assert.Equal(BlobStore.Sha256(bytes), sha);
        Assert.Equal(sha, blobs.Put(bytes));
        Assert.Equal(5, await ScalarAsync<long>("SELECT count(*) FROM blob_chunks"));
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM blobs"));
        Assert.True(blobs.Exists(sha));
        using var copy = new MemoryStream();
        await blobs.CopyToAsync(sha, copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Equal(bytes, blobs.Read(sha));
        Assert.False(Directory.Exists(db.Paths.Blobs));
        var missing = new string('0', 64);
        Assert.False(blobs.Exists(missing));
        Assert.Throws<LedgerException>(() => blobs.Read(missing));
    }

    [Fact]
    public async Task Locator_LedgerUrlInFactoryYaml_SelectsPostgreSql_WithTheRepositorysStateFolder()
    {
        var repo = await TempRepo.CreateAsync(dir.Combine("app"));
        Directory.CreateDirectory(Path.Combine(repo.Path, ".factory"));
        await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "factory.yaml"), $"ledger: {url}\n");
        var paths = await LedgerLocator.LocateAsync(null, repo.Path);
        Assert.Equal(LedgerEngine.PostgreSql, paths.Engine);
        Assert.Equal(url, paths.LedgerFile);
        Assert.Equal(Path.Combine(repo.Path, ".factory"), paths.Folder);

        var explicitPaths = await LedgerLocator.LocateAsync(url, repo.Path);
        Assert.Equal(LedgerEngine.PostgreSql, explicitPaths.Engine);
        var file = await LedgerLocator.LocateAsync(dir.Combine("elsewhere", "ledger.db"), repo.Path);
        Assert.Equal(LedgerEngine.Sqlite, file.Engine);
    }
}
