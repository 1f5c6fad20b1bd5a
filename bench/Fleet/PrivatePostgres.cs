using FactoryMcp.ChildProcesses;
using Npgsql;

namespace FactoryMcp.Bench.Fleet;

/// <summary>
/// A PostgreSQL cluster of the benchmark's own, started by the helper the tests use for theirs
/// (<see cref="PostgresServer"/>: Debian's binaries, an unprivileged user when the benchmark runs as root, 127.0.0.1
/// at a free port, a watchdog should the benchmark be killed). Unlike the tests' cluster it keeps PostgreSQL's default
/// durability (fsync, synchronous commit): the figures are a fleet's. Stopped, and its folder deleted, on dispose.
/// </summary>
internal sealed class PrivatePostgres : IDisposable
{
    public const string User = PostgresServer.Superuser;

    private readonly PostgresServer server;

    private PrivatePostgres(PostgresServer server) => this.server = server;

    public int Port => server.Port;

    /// <summary>The server's URL (database postgres), as `--postgres` takes it: BenchDatabase makes the ledger's own there.</summary>
    public string ServerUrl => $"postgresql://{User}@127.0.0.1:{Port}/postgres";

    public static async Task<PrivatePostgres> StartAsync()
    {
        try
        {
            // In the temp folder, which the server's user can reach (the benchmark's --dir may be under /root).
            return new PrivatePostgres(
                await PostgresServer.StartAsync(
                    Path.Combine(Path.GetTempPath(), $"factory-bench-pg-{Guid.NewGuid():N}"[..29]),
                    "-c max_connections=200 -c shared_buffers=64MB",
                    hba: null,
                    syncInit: true
                )
            );
        }
        catch (InvalidOperationException e) when (e.Message.Contains("not installed", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"`bench fleet` starts its own PostgreSQL, but {e.Message}", e);
        }
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        server.Stop("fast");
    }
}
