using FactoryMcp.ChildProcesses;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using Npgsql;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// One private PostgreSQL cluster for the whole test run, started the first time a test asks for it: Debian's
/// binaries, started by the one helper the benchmark also uses (<see cref="PostgresServer"/>): <c>initdb</c> in a temp folder,
/// listening on 127.0.0.1 at a free port and on a socket in that folder, run by an unprivileged user when the
/// tests run as root (the server refuses root), durability off (a test cluster dies with its run). It stops
/// when the test process exits, and a watchdog stops it should the process be killed. Each test gets a fresh
/// database of its own (<see cref="CreateDatabaseAsync"/>).
/// Missing binaries fail the test in CI and skip it only elsewhere, as <see cref="ExternalClients"/> does.
/// </summary>
public static class PostgresCluster
{
    /// <summary>The superuser the tests connect as (trusted on 127.0.0.1 and the socket).</summary>
    public const string User = PostgresServer.Superuser;

    /// <summary>A user that must give a password (<see cref="SecuredPassword"/>), for the bad-credentials tests.</summary>
    public const string SecuredUser = "secured";
    public const string SecuredPassword = "correct horse";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? started;
    private static string? failure;

    public static int Port => started?.Port ?? throw new InvalidOperationException("The cluster is not started.");

    /// <summary>Starts the cluster once (or fails/skips the test as described above).</summary>
    public static async Task RequireAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (started is null && failure is null)
            {
                try
                {
                    started = await StartAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failure = e.Message;
                }
            }
        }
        finally
        {
            Gate.Release();
        }
        if (failure is null)
            return;
        if (ExternalClients.InCi)
            Assert.Fail($"CI must run every PostgreSQL test, but {failure}");
        Assert.Skip(failure);
    }

    /// <summary>A fresh, empty database on the cluster; returns its ledger URL.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        await RequireAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];
        await using var connection = new NpgsqlConnection(Admin("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0", connection);
        await command.ExecuteNonQueryAsync();
        return Url(name);
    }

    public static string Url(string database, string user = User) => $"postgresql://{user}@127.0.0.1:{Port}/{database}";

    /// <summary>A ledger location on a fresh database, with its state folder.</summary>
    public static async Task<LedgerPaths> NewLedgerPathsAsync(string stateFolder) =>
        new(PostgresLocation.Parse(await CreateDatabaseAsync()), stateFolder);

    /// <summary>Drops a test's database, closing whatever connections still use it.</summary>
    public static async Task DropDatabaseAsync(string url)
    {
        if (started is null)
            return;
        var database = PostgresLocation.Parse(url).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Admin("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A connection string for the test's own administration (never one the factory sees).</summary>
    public static string Admin(string database) => Admin(database, Port);

    private static string Admin(string database, int port) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = User,
            Database = database,
            Pooling = false,
        }.ToString();

    /// <summary>
    /// Durability off (a test cluster dies with its run) unless <paramref name="durable"/>: then commits wait for their
    /// WAL (synchronous_commit on), so an acknowledged commit survives an immediate shutdown of the server (fsync stays
    /// off: the host itself does not crash). The <see cref="SecuredUser"/> must give its password on 127.0.0.1.
    /// </summary>
    private static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        var parent = Path.Combine(Path.GetTempPath(), "factory-tests");
        Directory.CreateDirectory(parent);
        if (Environment.UserName == "root")
            // The server's unprivileged user must reach its folder inside this one.
            File.SetUnixFileMode(parent, File.GetUnixFileMode(parent) | UnixFileMode.OtherExecute);
        var server = await PostgresServer.StartAsync(
            Path.Combine(parent, $"pg-{Guid.NewGuid():N}"[..15]),
            $"-c fsync=off -c synchronous_commit={(durable ? "on" : "off")} -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB",
            hba: $"""
            local all all trust
            host all {SecuredUser} 127.0.0.1/32 scram-sha-256
            host all all 127.0.0.1/32 trust
            """,
            syncInit: false
        );
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        await using var connection = new NpgsqlConnection(Admin("postgres", server.Port));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"CREATE ROLE {SecuredUser} LOGIN CREATEDB PASSWORD '{SecuredPassword}'",
            connection
        );
        await command.ExecuteNonQueryAsync();
        return server;
    }

    /// <summary>
    /// A second cluster, private to one test (its own folder, data directory and port), started by the same code
    /// as the shared one: for a test that restarts or stops PostgreSQL, which the shared cluster's other tests,
    /// running in parallel, must never see. Its commits are durable (see <see cref="StartAsync"/>), so a test may kill
    /// it with `-m immediate`. Disposing it stops it and removes its folder.
    /// </summary>
    public static async Task<PrivateCluster> StartPrivateAsync()
    {
        await RequireAsync(); // skips or fails the test exactly as the shared cluster would
        return new PrivateCluster(await StartAsync(durable: true));
    }

    public sealed class PrivateCluster(PostgresServer cluster) : IAsyncDisposable
    {
        public int Port => cluster.Port;

        public string Url(string database) => $"postgresql://{User}@127.0.0.1:{Port}/{database}";

        /// <summary>A fresh, empty database on this cluster; returns its ledger URL.</summary>
        public async Task<string> CreateDatabaseAsync(string prefix = "t")
        {
            var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];
            await using var connection = new NpgsqlConnection(Admin("postgres", Port));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0", connection);
            await command.ExecuteNonQueryAsync();
            return Url(name);
        }

        /// <summary>`pg_ctl restart -m <paramref name="mode"/>`: every connection is cut, the server comes back.</summary>
        public Task RestartAsync(string mode = "fast") => cluster.RestartAsync(mode);

        public ValueTask DisposeAsync()
        {
            cluster.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
