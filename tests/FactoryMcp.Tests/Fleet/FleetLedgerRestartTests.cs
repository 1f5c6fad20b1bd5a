using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FactoryMcp.ChildProcesses;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.EndToEnd;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// The ledger's PostgreSQL restarted under load (issue 21): two `factory serve --http` replicas and one
/// `factory worker` on a PostgreSQL cluster private to this test (the shared one serves tests running in
/// parallel), agents claiming, recording evidence and declaring in a loop through both replicas, and the
/// server killed and restarted (`pg_ctl restart -m immediate`, a crash) in the middle. Afterwards every process
/// works again (both replicas answer, the worker validates a job queued after the restart, all three heartbeat),
/// every write acknowledged to an agent is in the ledger, a call that failed meanwhile failed within 40 s with a
/// clear message, and `ledger verify` passes.
/// </summary>
[Collection(ManyServerProcesses.Name)]
public sealed class FleetLedgerRestartTests
{
    private const int Agents = 6;
    private const int Tasks = 200;

    private sealed record Ack(string Kind, long Run, string Summary, int Replica, bool AfterRestart);

    private sealed record Failure(string Tool, TimeSpan Took, string Message);

    [Fact]
    public async Task PostgresRestartedUnderLoad_EveryProcessReconnects_NoAcknowledgedWriteIsLost_AndVerifyPasses()
    {
        await using var cluster = await PostgresCluster.StartPrivateAsync();
        using var project = await HttpProject.CreateAsync(
            "http:\n  rate_limit_per_minute: 1000000\ndeclare_wait_seconds: 30\nvalidation_lease_seconds: 10\nfleet_heartbeat_seconds: 1\n",
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            },
            ledgerUrl: await cluster.CreateDatabaseAsync("restart")
        );
        await File.WriteAllTextAsync(
            Path.Combine(project.Path, ".factory", "lines.yaml"),
            "crew:\n  route: pool:crew\nbugfix:\n  route: pool:gate\n"
        );
        var factory = FactoryServices.Open(await LedgerLocator.LocateAsync(null, project.Path));
        var tokens = new List<string>();
        for (var i = 0; i < Agents; i++)
            tokens.Add((await factory.Agents.AddAsync("human:tester", $"crew-{i}", Roles.Agent, null, ["crew"])).Token);
        for (var i = 0; i < Tasks; i++)
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
            ["worker", "--concurrency", "1"],
            project.Path,
            FactoryBinary.CleanEnvironment(env)
        );
        await worker.WaitForLineAsync(
            new System.Text.RegularExpressions.Regex(@"Worker \S+ validating jobs"),
            TimeSpan.FromSeconds(60)
        );
        var replicas = new[] { a, b };

        var acks = new ConcurrentQueue<Ack>();
        var failures = new ConcurrentQueue<Failure>();
        var restarted = 0; // 1 once the server is back
        using var stop = new CancellationTokenSource();
        var loops = Enumerable
            .Range(0, Agents)
            .Select(i =>
                Task.Run(() =>
                    AgentLoopAsync(
                        i,
                        replicas,
                        tokens[i],
                        acks,
                        failures,
                        () => Volatile.Read(ref restarted) == 1,
                        stop.Token
                    )
                )
            )
            .ToArray();

        // Load first, then the crash and restart in the middle of it, then load again on both replicas.
        await WaitUntilAsync(
            () => acks.Count >= 40 || loops.Any(l => l.IsCompleted),
            "40 acknowledged writes before the restart"
        );
        Assert.DoesNotContain(loops, l => l.IsFaulted);
        await cluster.RestartAsync("immediate");
        Volatile.Write(ref restarted, 1);
        await WaitUntilAsync(
            () =>
                replicas.Select((_, r) => acks.Count(k => k.AfterRestart && k.Replica == r)).All(n => n >= 15)
                || loops.All(l => l.IsCompleted),
            "15 acknowledged writes through each replica after the restart"
        );
        stop.Cancel();
        await Task.WhenAll(loops);

        // Every process reconnected: both replicas wrote after the restart, and the worker takes a new job.
        for (var r = 0; r < replicas.Length; r++)
            Assert.True(
                acks.Count(k => k.AfterRestart && k.Replica == r) >= 15,
                $"replica {r} served too little after the restart; failures: {string.Join("\n", failures.Take(5))}\n{string.Join('\n', replicas[r].Stderr.TakeLast(20))}"
            );
        var gatePacket = project.Combine("gate.md");
        await File.WriteAllTextAsync(
            gatePacket,
            GateHarness.Packet(validation: "sh tests/test_greet.sh", reproduction: null)
        );
        var added = await FactoryBinary.RunAsync(project.Path, ["task", "add", gatePacket]);
        Assert.True(added.ExitCode == 0, added.Output);
        var gateTask = await factory.Db.QuerySingleOrDefaultAsync<long>("SELECT max(id) FROM tasks");
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", gateTask.ToString()])).ExitCode);
        var builder = await project.AddAgentAsync("builder", "agent", "--pool", "gate");
        await using (var client = await b.ConnectAsync(builder))
        {
            var (runId, _) = await GateEndToEndTests.ClaimAndFixAsync(client);
            var outcome = await Redeclare.UntilDecidedAsync(
                client,
                GateEndToEndTests.PrReady(runId),
                TimeSpan.FromMinutes(2)
            );
            Assert.True(outcome.IsError != true, Redeclare.TextOf(outcome));
            Assert.Equal("accepted", Redeclare.OutcomeOf(outcome));
        }
        // The registry's counters are written with each heartbeat (1 s here), so the job the worker just finished
        // shows once its next heartbeat has landed: read until it does, for at most 30 s (a loaded machine's heartbeats
        // come late, never early).
        List<JsonElement> processes;
        var heartbeatDeadline = Stopwatch.StartNew();
        while (true)
        {
            var fleet = JsonDocument.Parse(
                (await FactoryBinary.RunAsync(project.Path, ["fleet", "--json"])).StandardOutput
            );
            processes = fleet.RootElement.GetProperty("processes").EnumerateArray().ToList();
            var done = processes
                .Where(p => p.GetProperty("role").GetString() == "worker")
                .Sum(p => p.GetProperty("jobs_done").GetInt64());
            if (done >= 1 || heartbeatDeadline.Elapsed > TimeSpan.FromSeconds(30))
                break;
            await Task.Delay(250);
        }
        Assert.Equal(3, processes.Count);
        Assert.All(processes, p => Assert.Equal("alive", p.GetProperty("state").GetString()));
        Assert.Equal(
            1,
            processes.Single(p => p.GetProperty("role").GetString() == "worker").GetProperty("jobs_done").GetInt64()
        );

        // No acknowledged write is lost.
        var evidence = (
            await factory.Db.QueryAsync<string>("SELECT summary FROM evidence WHERE kind = 'log'")
        ).ToHashSet();
        var lostEvidence = acks.Where(k => k.Kind == "evidence" && !evidence.Contains(k.Summary)).ToList();
        Assert.True(
            lostEvidence.Count == 0,
            $"{lostEvidence.Count} acknowledged evidence writes lost: {string.Join(", ", lostEvidence.Take(5))}"
        );
        var runs = (await factory.Db.QueryAsync<(long Id, string State)>("SELECT id, state FROM runs")).ToDictionary(
            r => r.Id,
            r => r.State
        );
        Assert.All(
            acks.Where(k => k.Kind == "claim"),
            k => Assert.True(runs.ContainsKey(k.Run), $"claimed run {k.Run} lost")
        );
        Assert.All(acks.Where(k => k.Kind == "escalate"), k => Assert.Equal("escalated", runs[k.Run]));
        Assert.Contains(acks, k => k.Kind == "escalate" && k.AfterRestart);
        Assert.Contains(acks, k => k.Kind == "claim" && k.AfterRestart);
        // Calls that failed while the server was down failed in time, with a message an agent can act on.
        Assert.All(
            failures,
            f => Assert.True(f.Took < TimeSpan.FromSeconds(40), $"{f.Tool} took {f.Took}: {f.Message}")
        );
        Assert.All(failures, f => Assert.Matches("(?i)ledger|postgresql", f.Message));

        var verify = await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    /// <summary>
    /// One agent: claims a task, records five pieces of evidence, escalates, claims the next — alternating replicas
    /// call by call (stateless 2026-07-28 requests). Each write the server acknowledged is kept; each failure too.
    /// </summary>
    private static async Task AgentLoopAsync(
        int agent,
        HttpServerProcess[] replicas,
        string token,
        ConcurrentQueue<Ack> acks,
        ConcurrentQueue<Failure> failures,
        Func<bool> afterRestart,
        CancellationToken stop
    )
    {
        var clients = new McpClient[replicas.Length];
        for (var r = 0; r < replicas.Length; r++)
            clients[r] = await replicas[r].ConnectAsync(token);
        try
        {
            var call = agent;
            long? run = null;
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var replica = call++ % replicas.Length;
                // A call is "after the restart" only when it started once the server was back.
                var after = afterRestart();
                var (tool, args) = run switch
                {
                    null => ("get_task_packet", new Dictionary<string, object?> { ["new"] = true }),
                    { } id when n % 6 == 5 => (
                        "declare_terminal_state",
                        new Dictionary<string, object?>
                        {
                            ["run_id"] = id,
                            ["state"] = "ESCALATE",
                            ["summary"] = $"crew-{agent} gives up on run {id}",
                            ["question"] = "who owns this?",
                        }
                    ),
                    { } id => (
                        "record_evidence",
                        new Dictionary<string, object?>
                        {
                            ["run_id"] = id,
                            ["kind"] = "log",
                            ["summary"] = $"crew-{agent} note {n} on run {id}",
                        }
                    ),
                };
                var clock = Stopwatch.StartNew();
                try
                {
                    var result = await clients[replica].CallToolAsync(tool, args);
                    if (result.IsError == true)
                    {
                        failures.Enqueue(new Failure(tool, clock.Elapsed, Redeclare.TextOf(result)));
                        await Task.Delay(100);
                        continue;
                    }
                    var s = result.StructuredContent!.Value;
                    switch (tool)
                    {
                        case "get_task_packet":
                            if (s.GetProperty("status").GetString() == "empty")
                                return;
                            run = s.GetProperty("run_id").GetInt64();
                            n = 0;
                            acks.Enqueue(new Ack("claim", run.Value, "", replica, after));
                            break;
                        case "record_evidence":
                            acks.Enqueue(new Ack("evidence", run!.Value, (string)args["summary"]!, replica, after));
                            n++;
                            break;
                        default:
                            acks.Enqueue(new Ack("escalate", run!.Value, "", replica, after));
                            run = null;
                            break;
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failures.Enqueue(new Failure(tool, clock.Elapsed, $"{e.GetType().Name}: {e.Message}"));
                    await Task.Delay(100);
                }
            }
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
