using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace FactoryMcp.Tests.Ledger;

public sealed class LedgerDatabaseTests
{
    [Fact]
    public void Open_WhenNoLedgerExists_RefusesAndSaysHowToCreateOne()
    {
        using var dir = new TempDirectory();
        var paths = new LedgerPaths(dir.Combine("x", "ledger.db"));
        var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Open(paths));
        Assert.Contains("factory init", e.Message);
        Assert.False(Directory.Exists(dir.Combine("x")));
    }

    [Fact]
    public void Create_MakesPrivateFolderWithGitignoreKeyAndTestEnvironment()
    {
        using var dir = new TempDirectory();
        var paths = new LedgerPaths(dir.Combine(".factory", "ledger.db"));
        var db = LedgerDatabase.Create(paths, "test");
        Assert.Equal("test", db.Environment);
        Assert.Equal("*\n", File.ReadAllText(Path.Combine(paths.Folder, ".gitignore")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths.AuditKey));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(paths.Folder)
        );
        Assert.Equal(dir.Combine(".factory-runs"), paths.RunsFolder);
        Assert.Equal("test", LedgerDatabase.Open(paths).Environment);
    }

    [Fact]
    public void Create_WhenLedgerExists_RefusesAndLeavesItAlone()
    {
        using var dir = new TempDirectory();
        var paths = new LedgerPaths(dir.Combine(".factory", "ledger.db"));
        LedgerDatabase.Create(paths, "test");
        var before = File.ReadAllBytes(paths.AuditKey);
        Assert.Throws<LedgerException>(() => LedgerDatabase.Create(paths, "live"));
        Assert.Equal(before, File.ReadAllBytes(paths.AuditKey));
        Assert.Equal("test", LedgerDatabase.Open(paths).Environment);
    }

    [Fact]
    public void Open_WhenSchemaIsNewerThanTheBinary_Refuses()
    {
        using var dir = new TempDirectory();
        var paths = new LedgerPaths(dir.Combine(".factory", "ledger.db"));
        LedgerDatabase.Create(paths, "test");
        using (var connection = new SqliteConnection($"Data Source={paths.LedgerFile};Pooling=False"))
        {
            connection.Open();
            connection.Execute($"PRAGMA user_version = {LedgerDatabase.KnownSchemaVersion + 1}");
        }
        var e = Assert.Throws<LedgerException>(() => LedgerDatabase.Open(paths));
        Assert.Contains("newer than this factory binary", e.Message);
    }

    [Fact]
    public async Task Create_UsesWalAndSynchronousFull()
    {
        using var dir = new TempDirectory();
        var db = LedgerDatabase.Create(new LedgerPaths(dir.Combine(".factory", "ledger.db")), "test");
        await using var connection = db.Connect();
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("PRAGMA synchronous"));
        Assert.Equal(
            LedgerDatabase.KnownSchemaVersion,
            await connection.ExecuteScalarAsync<int>("PRAGMA user_version")
        );
    }

    [Fact]
    public void Create_WithUnknownEnvironment_Refused()
    {
        using var dir = new TempDirectory();
        Assert.Throws<LedgerException>(() =>
            LedgerDatabase.Create(new LedgerPaths(dir.Combine(".factory", "ledger.db")), "staging")
        );
    }

    [Fact]
    public async Task Write_WaitsItsTurnBehindAnotherProcessInTheWritersQueue_AndGoesAsSoonAsItEnds()
    {
        using var dir = new TempDirectory();
        var paths = new LedgerPaths(dir.Combine(".factory", "ledger.db"));
        var db = LedgerDatabase.Create(paths, "test");
        await db.WriteAsync("test", w => w.AuditAsync("test.first", "test", null, new { n = 1 }));
        var queueFile = paths.LedgerFile + "-writers";
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(queueFile));

        // Another process (util-linux flock, not our code) takes the writers' turn and keeps it until its stdin closes.
        using var holder = System.Diagnostics.Process.Start(
            new System.Diagnostics.ProcessStartInfo("flock", [queueFile, "sh", "-c", "echo held; exec cat >/dev/null"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            }
        )!;
        Assert.Equal("held", await holder.StandardOutput.ReadLineAsync());

        var write = db.WriteAsync("test", w => w.AuditAsync("test.second", "test", null, new { n = 2 }));
        await Task.Delay(1500);
        Assert.False(write.IsCompleted, "the write went ahead while another process had the writers' turn");

        holder.StandardInput.Close();
        await holder.WaitForExitAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(
            2,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action LIKE 'test.%'")
        );
    }
}
