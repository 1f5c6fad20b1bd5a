using FactoryMcp.ChildProcesses;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using Npgsql;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// Upgrading a fleet one process at a time (README, "Deployment"), through the published binary on one PostgreSQL
/// ledger: a binary newer than the ledger's schema migrates it while another process keeps serving; a binary older
/// than the schema refuses to start and says so, changing nothing.
/// </summary>
public sealed class FleetUpgradeTests
{
    private static async Task<string> LedgerUrlAsync(HttpProject project) =>
        (await File.ReadAllLinesAsync(Path.Combine(project.Path, ".factory", "factory.yaml")))
            .Single(l => l.StartsWith("ledger:", StringComparison.Ordinal))["ledger:".Length..]
            .Trim();

    private static async Task<T> ScalarAsync<T>(string url, string sql)
    {
        await using var connection = new NpgsqlConnection(
            PostgresCluster.Admin(FactoryMcp.Ledger.Storage.PostgreSql.PostgresLocation.Parse(url).Database)
        );
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>What undoes the newest migration on PostgreSQL, by its number (its tables' triggers go with them).</summary>
    private static readonly Dictionary<int, string> UndoLatest = new()
    {
        [13] = "DROP TABLE mcp_sessions;",
        [14] = "DROP TABLE run_usage; DROP TABLE error_groups;",
        [15] = "DROP TABLE trigger_firings; DROP TABLE test_results;",
        [16] = "DROP TABLE tool_calls;",
        [17] = "DROP TABLE pull_verifications;",
    };

    [Fact]
    public async Task BinaryNewerThanTheSchema_MigratesIt_WhileAnotherReplicaKeepsServing()
    {
        using var project = await HttpProject.CreateAsync(engine: LedgerEngine.PostgreSql);
        var token = await project.AddAgentAsync("a1");
        var url = await LedgerUrlAsync(project);
        var latest = LedgerDatabase.KnownSchemaVersion;
        // The ledger as the previous release left it: without the last migration.
        Assert.True(
            UndoLatest.TryGetValue(latest, out var undo),
            $"migration {latest} is new: add the SQL that undoes it to UndoLatest"
        );
        await ScalarAsync<int>(url, $"{undo} DELETE FROM factory_schema WHERE version = {latest}; SELECT 0");
        Assert.Equal(latest - 1, await ScalarAsync<int>(url, "SELECT max(version) FROM factory_schema"));

        await using var upgraded = await HttpServerProcess.StartFactoryAsync(project.Path);
        Assert.Equal(latest, await ScalarAsync<int>(url, "SELECT max(version) FROM factory_schema"));
        await using var second = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var client = await second.ConnectAsync(token, "2025-11-25");
        Assert.NotEmpty(await client.ListToolsAsync());
        Assert.Equal(1L, await ScalarAsync<long>(url, "SELECT count(*) FROM mcp_sessions"));
        var verify = await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    [Fact]
    public async Task BinaryOlderThanTheSchema_RefusesToServe_AndSaysSo()
    {
        using var project = await HttpProject.CreateAsync(engine: LedgerEngine.PostgreSql);
        await project.AddAgentAsync("a1");
        var url = await LedgerUrlAsync(project);
        var newer = LedgerDatabase.KnownSchemaVersion + 1;
        await ScalarAsync<int>(
            url,
            $"INSERT INTO factory_schema (version, applied_at) VALUES ({newer}, 'from a newer release'); SELECT 0"
        );

        await using var serve = await ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["serve", "--http", "--urls", "http://127.0.0.1:0"],
            project.Path,
            FactoryBinary.CleanEnvironment()
        );
        var exit = await serve.Exited.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exit);
        var said = string.Join("\n", serve.Stderr);
        Assert.Contains($"schema version {newer}, newer than this factory binary knows", said);
        Assert.Contains("Upgrade factory", said);
        Assert.Equal(newer, await ScalarAsync<int>(url, "SELECT max(version) FROM factory_schema"));
    }
}
