using System.Collections.Concurrent;
using FactoryMcp.ChildProcesses;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.EndToEnd;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// A fleet under claim load (issue 21): two `factory serve --http` replicas and one `factory worker` on one PostgreSQL
/// ledger, 48 agents (the SDK's own HTTP clients, stateless 2026-07-28 requests) spread across the replicas, 480
/// tasks: every task claimed exactly once, none lost, no error reaching an agent. Run with the other races, alone.
/// </summary>
[Collection(ManyServerProcesses.Name)]
public sealed class FleetClaimTests
{
    [Fact]
    public async Task Agents_SpreadAcrossTwoReplicas_ClaimEveryTaskExactlyOnce_WithNoErrorReachingAnAgent()
    {
        const int agents = 48;
        const int tasks = 480;
        using var project = await HttpProject.CreateAsync(
            "http:\n  rate_limit_per_minute: 1000000\n",
            engine: FactoryMcp.Ledger.Storage.LedgerEngine.PostgreSql
        );
        await File.WriteAllTextAsync(
            Path.Combine(project.Path, ".factory", "lines.yaml"),
            "crew:\n  route: pool:crew\n"
        );
        var factory = FactoryServices.Open(await LedgerLocator.LocateAsync(null, project.Path));
        var tokens = new List<string>();
        for (var i = 0; i < agents; i++)
            tokens.Add((await factory.Agents.AddAsync("human:tester", $"crew-{i}", Roles.Agent, null, ["crew"])).Token);
        for (var i = 0; i < tasks; i++)
        {
            var task = await factory.Intake.ProposeAsync(
                TestFactory.Human,
                PacketText.Simple($"Task {i}", line: "crew")
            );
            await factory.Intake.ApproveAsync(TestFactory.Human, task.Id);
        }

        var env = new Dictionary<string, string?> { ["FACTORY_VALIDATION_SLOTS"] = project.Combine("slots") };
        await using var a = await HttpServerProcess.StartFactoryAsync(project.Path, ["--no-validate"], env);
        await using var b = await HttpServerProcess.StartFactoryAsync(project.Path, ["--no-validate"], env);
        await using var worker = await ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["worker"],
            project.Path,
            FactoryBinary.CleanEnvironment(env)
        );
        var replicas = new[] { a, b };
        var clients = await Task.WhenAll(tokens.Select((token, i) => replicas[i % 2].ConnectAsync(token)));
        var claims = new ConcurrentBag<(int Agent, long Run, long Task)>();
        var errors = new ConcurrentBag<string>();
        try
        {
            await Task.WhenAll(
                clients.Select(
                    (client, i) =>
                        Task.Run(async () =>
                        {
                            while (true)
                            {
                                try
                                {
                                    var result = await client.CallToolAsync(
                                        "get_task_packet",
                                        new Dictionary<string, object?> { ["new"] = true }
                                    );
                                    if (result.IsError == true)
                                    {
                                        errors.Add(Redeclare.TextOf(result));
                                        return;
                                    }
                                    var s = result.StructuredContent!.Value;
                                    if (s.GetProperty("status").GetString() == "empty")
                                        return;
                                    claims.Add(
                                        (i, s.GetProperty("run_id").GetInt64(), s.GetProperty("task_id").GetInt64())
                                    );
                                }
                                catch (Exception e)
                                {
                                    errors.Add($"crew-{i}: {e.GetType().Name}: {e.Message}");
                                    return;
                                }
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

        Assert.True(
            errors.IsEmpty,
            $"{errors.Count} call(s) failed: {errors.FirstOrDefault()}\nreplica a:\n{string.Join('\n', a.Stderr.TakeLast(20))}\nreplica b:\n{string.Join('\n', b.Stderr.TakeLast(20))}"
        );
        Assert.Equal(tasks, claims.Count);
        Assert.Equal(tasks, claims.Select(c => c.Task).Distinct().Count());
        Assert.Equal(tasks, claims.Select(c => c.Run).Distinct().Count());
        Assert.Equal(tasks, await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs"));
        Assert.Equal(0, await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM queue"));
        Assert.Equal(
            tasks,
            await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM tasks WHERE state = 'running'")
        );
        // Both replicas served claims (the agents were spread), and all three processes are in the registry.
        Assert.Equal(
            2,
            await factory.Db.QuerySingleOrDefaultAsync<long>(
                "SELECT count(*) FROM fleet_processes WHERE role = 'server' AND stopped_at IS NULL"
            )
        );
        Assert.Equal(
            1,
            await factory.Db.QuerySingleOrDefaultAsync<long>(
                "SELECT count(*) FROM fleet_processes WHERE role = 'worker'"
            )
        );
        var verify = await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }
}
