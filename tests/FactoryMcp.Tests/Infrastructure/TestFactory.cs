using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A project repository with a real test ledger in its .factory folder, and the same FactoryServices
/// the CLI and server use. Time is a fake clock (PacedTimeProvider) the test moves, on either engine (on PostgreSQL too:
/// a ledger given a clock uses it instead of the database server's). On PostgreSQL the ledger is a fresh
/// database of the run's private cluster, dropped on dispose.
/// </summary>
public sealed class TestFactory : IDisposable
{
    private readonly TempDirectory root;

    private TestFactory(TempDirectory root, TempRepo repo, FactoryServices services, PacedTimeProvider time)
    {
        this.root = root;
        Repo = repo;
        Services = services;
        Time = time;
    }

    public TempRepo Repo { get; }
    public FactoryServices Services { get; }
    public PacedTimeProvider Time { get; }
    public LedgerPaths Paths => Services.Paths;
    public string Root => root.Path;

    public static Caller Human { get; } = Caller.LocalHuman("tester");

    public static async Task<TestFactory> CreateAsync(
        string? linesYaml = null,
        IReadOnlyDictionary<string, string>? files = null,
        LedgerEngine? engine = null
    )
    {
        var chosen = engine ?? TestEnvironment.DefaultEngine;
        var root = new TempDirectory();
        var repo = await TempRepo.CreateAsync(root.Combine("app"), files);
        var time = new PacedTimeProvider(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var state = System.IO.Path.Combine(repo.Path, ".factory");
        var paths =
            chosen == LedgerEngine.PostgreSql
                ? await PostgresCluster.NewLedgerPathsAsync(state)
                : new LedgerPaths(System.IO.Path.Combine(state, "ledger.db"));
        var db = LedgerDatabase.Create(paths, "test", time);
        if (linesYaml is not null)
            await File.WriteAllTextAsync(paths.LinesConfig, linesYaml);
        return new TestFactory(root, repo, new FactoryServices(db), time);
    }

    public async Task<Caller> BuilderAsync(string name = "builder-1") =>
        await Services.Agents.AuthenticateAsync(name, null, null);

    public async Task<TaskRow> ApprovedTaskAsync(string? packet = null)
    {
        var task = await Services.Intake.ProposeAsync(Human, packet ?? PacketText.Simple());
        return await Services.Intake.ApproveAsync(Human, task.Id);
    }

    public LedgerEngine Engine => Paths.Engine;

    /// <summary>Runs SQL on the ledger's database directly, as someone editing it behind the factory's back would.</summary>
    public void ExecuteBehindTheLedger(string sql)
    {
        using System.Data.Common.DbConnection connection = Paths.PostgreSql is { } location
            ? new Npgsql.NpgsqlConnection(PostgresCluster.Admin(location.Database))
            : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Paths.LedgerFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (Paths.PostgreSql is { } location)
            PostgresCluster.DropDatabaseAsync(location.Url).GetAwaiter().GetResult();
        root.Dispose();
    }
}
