using System.Collections.Concurrent;
using FactoryMcp.ChildProcesses;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// Many server processes on one ledger: no double claim, no SQLITE_BUSY (or PostgreSQL error) surfaced, and kill -9
/// loses nothing acknowledged. On PostgreSQL the ledger is chosen the way a user does it, by `ledger:` in
/// .factory/factory.yaml, so every process started in the repository finds it.
/// </summary>
public abstract class ConcurrencyTests(LedgerEngine engine) : IDisposable
{
    private readonly TempDirectory root = new("race");

    public void Dispose() => root.Dispose();

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private async Task<(TempRepo Repo, FactoryServices Factory)> ProjectAsync(string? linesYaml = null)
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        var state = Path.Combine(repo.Path, ".factory");
        LedgerPaths paths;
        if (engine == LedgerEngine.PostgreSql)
        {
            var url = await PostgresCluster.CreateDatabaseAsync("race");
            Directory.CreateDirectory(state);
            await File.WriteAllTextAsync(Path.Combine(state, "factory.yaml"), $"ledger: {url}\n");
            paths = new LedgerPaths(FactoryMcp.Ledger.Storage.PostgreSql.PostgresLocation.Parse(url), state);
        }
        else
            paths = new LedgerPaths(Path.Combine(state, "ledger.db"));
        var init = await FactoryBinary.RunAsync(repo.Path, ["init", "--test"]);
        Assert.True(init.ExitCode == 0, init.Output);
        if (linesYaml is not null)
            await File.WriteAllTextAsync(paths.LinesConfig, linesYaml);
        return (repo, FactoryServices.Open(paths));
    }

    [Fact]
    public async Task Claims_From32ServerProcessesOnOnePool_TakeEveryTaskExactlyOnce_AndNoBusyErrorReachesACaller()
    {
        // PostgreSQL races for ten tasks per process (issue 14); SQLite keeps its suite's original size.
        const int agents = 32;
        var tasks = engine == LedgerEngine.PostgreSql ? 320 : 48;
        var (repo, factory) = await ProjectAsync("crew:\n  route: pool:crew\n");
        for (var i = 0; i < agents; i++)
            await factory.Agents.AddAsync("human:tester", $"crew-{i}", Roles.Agent, null, ["crew"]);
        await factory.Agents.AuthenticateAsync("outsider", null, null);
        for (var i = 0; i < tasks; i++)
        {
            var task = await factory.Intake.ProposeAsync(
                TestFactory.Human,
                PacketText.Simple($"Task {i}", line: "crew")
            );
            await factory.Intake.ApproveAsync(TestFactory.Human, task.Id);
        }

        var stderr = new List<string>();
        var clients = await Task.WhenAll(
            Enumerable.Range(0, agents).Select(i => FactoryBinary.ConnectAsync(repo.Path, $"crew-{i}", stderr: stderr))
        );
        var claims = new ConcurrentBag<(string Agent, long Run, long Task)>();
        var errors = new ConcurrentBag<string>();
        try
        {
            // Every process asks for a new run until its pool's queue is empty.
            await Task.WhenAll(
                clients.Select(
                    (client, i) =>
                        Task.Run(async () =>
                        {
                            while (true)
                            {
                                var result = await client.CallToolAsync(
                                    "get_task_packet",
                                    new Dictionary<string, object?> { ["new"] = true }
                                );
                                if (result.IsError == true)
                                {
                                    errors.Add(Text(result));
                                    return;
                                }
                                var s = result.StructuredContent!.Value;
                                if (s.GetProperty("status").GetString() == "empty")
                                    return;
                                claims.Add(
                                    (
                                        $"crew-{i}",
                                        s.GetProperty("run_id").GetInt64(),
                                        s.GetProperty("task_id").GetInt64()
                                    )
                                );
                            }
                        })
                )
            );
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }

        if (!errors.IsEmpty)
            lock (stderr)
                Assert.Fail(
                    $"{errors.Count} call(s) failed: {errors.First()}\nserver stderr (last 40 lines):\n{string.Join('\n', stderr.TakeLast(40))}"
                );
        Assert.Equal(tasks, claims.Count);
        Assert.Equal(tasks, claims.Select(c => c.Task).Distinct().Count());
        Assert.Equal(tasks, claims.Select(c => c.Run).Distinct().Count());
        lock (stderr)
            Assert.DoesNotContain(stderr, l => l.Contains("SQLITE_BUSY") || l.Contains("database is locked"));
        Assert.Equal(tasks, await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs"));
        Assert.Equal(
            tasks,
            await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(DISTINCT task_id) FROM runs")
        );
        Assert.Equal(0, await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM queue"));
        Assert.Equal(
            tasks,
            await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM tasks WHERE state = 'running'")
        );
        // Pool work went to pool members only.
        Assert.Equal(
            0,
            await factory.Db.QuerySingleOrDefaultAsync<long>(
                "SELECT count(*) FROM runs r JOIN agents a ON a.id = r.agent_id WHERE a.name = 'outsider'"
            )
        );
        var verify = await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    [Fact]
    public async Task KillMinus9_WhileWritesAreInFlight_LosesNothingAcknowledged_LeavesNothingHalfWritten_AndVerifies()
    {
        var (repo, factory) = await ProjectAsync();
        var task = await factory.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple());
        await factory.Intake.ApproveAsync(TestFactory.Human, task.Id);

        var acknowledged = new ConcurrentDictionary<long, string>();
        long runId;
        await using (var server = await StartServerAsync(repo.Path, "writer"))
        {
            var client = await McpClient.CreateAsync(
                new StreamClientTransport(server.StandardInput, server.StandardOutput),
                FactoryBinary.ClientOptions
            );
            var packet = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            runId = packet.StructuredContent!.Value.GetProperty("run_id").GetInt64();

            using var enough = new CancellationTokenSource();
            var writers = Enumerable
                .Range(0, 8)
                .Select(w =>
                    Task.Run(async () =>
                    {
                        for (var n = 0; ; n++)
                        {
                            var summary = $"writer {w} item {n}";
                            CallToolResult result;
                            try
                            {
                                result = await client.CallToolAsync(
                                    "record_evidence",
                                    new Dictionary<string, object?>
                                    {
                                        ["run_id"] = runId,
                                        ["kind"] = "log",
                                        ["summary"] = summary,
                                        ["content"] = new string('x', 2000 + n),
                                    }
                                );
                            }
                            catch (Exception)
                            {
                                return; // the server died under this call: not acknowledged
                            }
                            Assert.NotEqual(true, result.IsError);
                            acknowledged[result.StructuredContent!.Value.GetProperty("evidence_id").GetInt64()] =
                                summary;
                            if (acknowledged.Count >= 150)
                                await enough.CancelAsync();
                        }
                    })
                )
                .ToList();
            // Enough acknowledgements, or every writer stopped (the server died early), or a deadline: never a hang.
            var gotEnough = Task.Delay(Timeout.Infinite, enough.Token).ContinueWith(_ => { });
            var writersEnded = Task.WhenAll(writers);
            var first = await Task.WhenAny(gotEnough, writersEnded, Task.Delay(TimeSpan.FromMinutes(2)));
            if (first != gotEnough)
            {
                await server.KillAsync();
                Assert.Fail(
                    $"only {acknowledged.Count} writes were acknowledged before "
                        + (first == writersEnded ? "every writer stopped (the server died?)" : "2 minutes passed")
                );
            }
            await server.KillAsync(); // SIGKILL, with the other writers' calls in flight
            await Task.WhenAll(writers);
            try
            {
                await client.DisposeAsync();
            }
            catch (Exception) { }
        }

        Assert.True(acknowledged.Count >= 150);
        if (engine == LedgerEngine.Sqlite)
        {
            await using var connection = new SqliteConnection($"Data Source={factory.Paths.LedgerFile};Pooling=False");
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", (string)check.ExecuteScalar()!);
        }
        var stored = (
            await factory.Db.QueryAsync<(long Id, string Summary)>(
                "SELECT id, summary FROM evidence WHERE run_id = @runId AND origin = 'agent'",
                SqlArgs.Of(new { runId })
            )
        ).ToDictionary(e => e.Id, e => e.Summary);
        foreach (var (id, summary) in acknowledged)
            Assert.Equal(summary, stored.GetValueOrDefault(id));
        // Nothing half-written: every evidence row has its audit record and every audit record its row.
        var audited = (
            await factory.Db.QueryAsync<long>(
                new Sql(
                    Sqlite: "SELECT json_extract(body, '$.change.evidence_id') FROM audit WHERE action = 'evidence.recorded' AND entity_id = @runId",
                    PostgreSql: "SELECT CAST(CAST(body AS jsonb) -> 'change' ->> 'evidence_id' AS BIGINT) FROM audit WHERE action = 'evidence.recorded' AND entity_id = @runId"
                ),
                SqlArgs.Of(new { runId })
            )
        ).ToHashSet();
        Assert.True(audited.SetEquals(stored.Keys));
        var verify = await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);

        // A restarted server picks the run up where it was.
        await using var again = await FactoryBinary.ConnectAsync(repo.Path, "writer");
        var resumed = await again.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        Assert.Equal("resumed", resumed.StructuredContent!.Value.GetProperty("status").GetString());
        Assert.Equal(runId, resumed.StructuredContent!.Value.GetProperty("run_id").GetInt64());
        var after = await again.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "after the crash",
            }
        );
        Assert.True(after.IsError != true, Text(after));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
    }

    /// <summary>`factory serve` as a plain child process, so the test holds its pid and can SIGKILL it.</summary>
    private static Task<ChildProcess> StartServerAsync(string workingDirectory, string agent) =>
        ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["serve"],
            workingDirectory,
            FactoryBinary.CleanEnvironment(new Dictionary<string, string?> { ["FACTORY_AGENT"] = agent }),
            interactive: true
        );
}

[Collection(ManyServerProcesses.Name)]
public sealed class ConcurrencyTestsOnSqlite() : ConcurrencyTests(LedgerEngine.Sqlite);

[Collection(ManyServerProcesses.Name)]
public sealed class ConcurrencyTestsOnPostgreSql() : ConcurrencyTests(LedgerEngine.PostgreSql);

/// <summary>
/// The races of dozens of server processes run one at a time, after the rest of the suite: what they measure is
/// the ledger under its own writers, not a CI machine running two 32-process races side by side on two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManyServerProcesses
{
    public const string Name = "Many server processes";
}
