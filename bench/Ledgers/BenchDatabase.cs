using FactoryMcp.Ledger.Storage.PostgreSql;
using Npgsql;

namespace FactoryMcp.Bench.Ledgers;

/// <summary>
/// A database of its own on the PostgreSQL server given by `--postgres`, for one bench ledger: created from the
/// server's URL (whose database is only where the connection to create it is made) and dropped on dispose.
/// Passwords come from PGPASSWORD or ~/.pgpass, as for the factory.
/// </summary>
internal sealed class BenchDatabase : IDisposable
{
    private readonly string admin;
    private readonly string name;

    private BenchDatabase(string admin, string name, PostgresLocation location)
    {
        this.admin = admin;
        this.name = name;
        Location = location;
    }

    public PostgresLocation Location { get; }

    public static async Task<BenchDatabase> CreateAsync(string serverUrl)
    {
        var server = PostgresLocation.Parse(serverUrl);
        var admin = new NpgsqlConnectionStringBuilder
        {
            Host = server.Host,
            Port = server.Port,
            Username = server.User,
            Database = server.Database,
            ApplicationName = "factory-bench",
            Pooling = false,
        }.ConnectionString;
        var name = $"factory_bench_{Guid.NewGuid():N}"[..30];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        var path = new Uri(server.Url).AbsolutePath;
        var url = server.Url.Replace(path, "/" + name, StringComparison.Ordinal);
        return new BenchDatabase(admin, name, PostgresLocation.Parse(url));
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(admin);
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        drop.ExecuteNonQuery();
    }
}
