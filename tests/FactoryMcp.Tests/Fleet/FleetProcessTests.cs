using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FactoryMcp.ChildProcesses;
using FactoryMcp.Tests.EndToEnd;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// A fleet of real processes on one PostgreSQL ledger (issue 21): `factory serve --http --no-validate` replicas in
/// front, `factory worker` processes validating, a worker killed mid-validation, and NOTIFY waking a declaration.
/// Every test has validation slots of its own, so its workers compete with nothing else on the host.
/// </summary>
public sealed partial class FleetProcessTests : IAsyncLifetime
{
    private HttpProject project = null!;
    private FactoryServices factory = null!;
    private readonly List<IAsyncDisposable> processes = [];
    private string Slots => project.Combine("slots");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
            await process.DisposeAsync();
        project?.Dispose();
    }

    private async Task CreateAsync(string factoryYaml, string packet)
    {
        project = await HttpProject.CreateAsync(
            factoryYaml,
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            },
            FactoryMcp.Ledger.Storage.LedgerEngine.PostgreSql
        );
        var file = project.Combine("packet.md");
        await File.WriteAllTextAsync(file, packet);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        factory = FactoryServices.Open(await LedgerLocator.LocateAsync(null, project.Path));
    }

    private Dictionary<string, string?> Env => new() { ["FACTORY_VALIDATION_SLOTS"] = Slots };

    private async Task<HttpServerProcess> StartFrontAsync()
    {
        var server = await HttpServerProcess.StartFactoryAsync(project.Path, ["--no-validate"], Env);
        processes.Add(server);
        return server;
    }

    private async Task<(ChildProcess Process, string Id)> StartWorkerAsync()
    {
        var worker = await ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["worker", "--concurrency", "1"],
            project.Path,
            FactoryBinary.CleanEnvironment(Env)
        );
        processes.Add(worker);
        var started = await worker.WaitForLineAsync(WorkerLine(), TimeSpan.FromSeconds(60));
        return (worker, started.Groups[1].Value);
    }

    private async Task<(McpClient Client, long RunId)> ClaimAndFixAsync(HttpServerProcess server)
    {
        var token = await project.AddAgentAsync("builder-1");
        var client = await server.ConnectAsync(token);
        processes.Add(client);
        var (runId, _) = await GateEndToEndTests.ClaimAndFixAsync(client);
        return (client, runId);
    }

    private async Task<JsonElement> FleetJsonAsync()
    {
        var fleet = await FactoryBinary.RunAsync(project.Path, ["fleet", "--json"]);
        Assert.True(fleet.ExitCode == 0, fleet.Output);
        return JsonDocument.Parse(fleet.StandardOutput).RootElement.Clone();
    }

    private static JsonElement ProcessOf(JsonElement fleet, string id) =>
        fleet.GetProperty("processes").EnumerateArray().Single(p => p.GetProperty("id").GetString() == id);

    private async Task<T> ScalarAsync<T>(string sql) => (await factory.Db.QuerySingleOrDefaultAsync<T>(sql))!;

    [Fact]
    public async Task Worker_ValidatesTheJobs_OfAServerRunningNoValidate()
    {
        await CreateAsync(
            "declare_wait_seconds: 2\nvalidation_lease_seconds: 10\nfleet_heartbeat_seconds: 1\n",
            GateHarness.Packet(validation: "sh tests/test_greet.sh", reproduction: null)
        );
        var server = await StartFrontAsync();
        var (client, runId) = await ClaimAndFixAsync(server);

        // The front takes no job: the declaration waits, its job queued.
        var first = await client.CallToolAsync("declare_terminal_state", GateEndToEndTests.PrReady(runId));
        Assert.Equal("validating", Redeclare.OutcomeOf(first));
        Assert.Equal("queued", await ScalarAsync<string>("SELECT state FROM validation_jobs"));
        Assert.Contains("(--no-validate)", string.Join('\n', server.Stderr));

        var (_, workerId) = await StartWorkerAsync();
        var outcome = await Redeclare.UntilDecidedAsync(
            client,
            GateEndToEndTests.PrReady(runId),
            TimeSpan.FromMinutes(2)
        );
        Assert.True(outcome.IsError != true, Redeclare.TextOf(outcome));
        Assert.Equal("accepted", Redeclare.OutcomeOf(outcome));
        Assert.Equal(workerId, await ScalarAsync<string>("SELECT owner FROM validation_jobs"));

        // Both processes are in the registry: the front validates nothing, the worker counts its job once it beats.
        await GateEndToEndTests.WaitForAsync(() =>
            ProcessOf(FleetJsonAsync().GetAwaiter().GetResult(), workerId).GetProperty("jobs_done").GetInt64() == 1
        );
        var fleet = await FleetJsonAsync();
        var worker = ProcessOf(fleet, workerId);
        Assert.Equal("worker", worker.GetProperty("role").GetString());
        Assert.Equal("alive", worker.GetProperty("state").GetString());
        Assert.Equal(Environment.MachineName, worker.GetProperty("host").GetString());
        var front = fleet
            .GetProperty("processes")
            .EnumerateArray()
            .Single(p => p.GetProperty("role").GetString() == "server");
        Assert.False(front.GetProperty("validates").GetBoolean());
        Assert.Equal(0, front.GetProperty("jobs_done").GetInt64());
        var text = await FactoryBinary.RunAsync(project.Path, ["fleet"]);
        Assert.Contains(workerId, text.StandardOutput);
        Assert.Contains("front", text.StandardOutput);

        // The dashboard's fleet page shows the same processes, to a human's session only.
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false })
        {
            BaseAddress = server.BaseUrl,
        };
        Assert.NotEqual(System.Net.HttpStatusCode.OK, (await anonymous.GetAsync("/fleet")).StatusCode);
        var human = await project.AddAgentAsync("ada", "human");
        using var browser = new HttpClient(
            new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new System.Net.CookieContainer() }
        )
        {
            BaseAddress = server.BaseUrl,
        };
        using var login = await browser.PostAsync(
            "/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = human })
        );
        Assert.Equal(System.Net.HttpStatusCode.Redirect, login.StatusCode);
        var page = await browser.GetStringAsync("/fleet");
        Assert.Contains(System.Net.WebUtility.HtmlEncode(workerId), page);
        Assert.Contains("<td class=\"state\">alive</td>", page);
        Assert.Contains("server (--no-validate)", page);
    }

    [Fact]
    public async Task Worker_KilledMidValidation_AnotherWorkerFinishes_ItsSlotAndCheckoutAreReclaimed_AndItShowsAsLost()
    {
        // One slot on this host: the second worker can validate only once the killed one's slot is free again.
        await CreateAsync(
            "declare_wait_seconds: 1\nvalidation_lease_seconds: 3\nvalidation_concurrency: 1\nfleet_heartbeat_seconds: 1\n",
            GateHarness.Packet(validation: "sleep 6 && sh tests/test_greet.sh", reproduction: null)
        );
        var server = await StartFrontAsync();
        var (first, firstId) = await StartWorkerAsync();
        var (client, runId) = await ClaimAndFixAsync(server);
        var declared = await client.CallToolAsync("declare_terminal_state", GateEndToEndTests.PrReady(runId));
        Assert.Equal("validating", Redeclare.OutcomeOf(declared));
        await first.WaitForLineAsync(JobStartedLine(), TimeSpan.FromSeconds(60));
        var jobId = await ScalarAsync<long>("SELECT id FROM validation_jobs");
        var checkout = Path.Combine(factory.Paths.RunsFolder, ".validation", $"job-{jobId}-1");
        Assert.True(Directory.Exists(checkout), $"the first worker validates in {checkout}");
        await first.KillAsync(); // SIGKILL: no release, no goodbye; the job's lease simply stops being renewed
        Assert.Equal("running", await ScalarAsync<string>("SELECT state FROM validation_jobs"));

        var (second, secondId) = await StartWorkerAsync();
        var outcome = await Redeclare.UntilDecidedAsync(
            client,
            GateEndToEndTests.PrReady(runId),
            TimeSpan.FromMinutes(2)
        );
        Assert.True(outcome.IsError != true, Redeclare.TextOf(outcome));
        Assert.Equal("accepted", Redeclare.OutcomeOf(outcome));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT starts FROM validation_jobs"));
        Assert.Equal(secondId, await ScalarAsync<string>("SELECT owner FROM validation_jobs"));

        // Reclaimed: the killed attempt's checkout is gone, and the host's one slot is free once the second is done.
        Assert.False(Directory.Exists(checkout), $"{checkout} outlived the attempt that made it");
        // (the second worker deletes its own checkout just after the decision it committed)
        await GateEndToEndTests.WaitForAsync(() =>
            Directory.GetDirectories(Path.Combine(factory.Paths.RunsFolder, ".validation")).Length == 0
        );
        await GateEndToEndTests.WaitForAsync(() =>
        {
            using var slot = new ValidationSlots(1, Slots).TryAcquire();
            return slot is not null;
        });

        // The killed worker is lost (silent past three 1 s heartbeats); the survivor is alive and then stops cleanly.
        await GateEndToEndTests.WaitForAsync(() =>
            ProcessOf(FleetJsonAsync().GetAwaiter().GetResult(), firstId).GetProperty("state").GetString() == "lost"
        );
        Assert.Equal("alive", ProcessOf(await FleetJsonAsync(), secondId).GetProperty("state").GetString());
        Assert.Equal(0, await second.TerminateAsync(TimeSpan.FromSeconds(60)));
        var stopped = ProcessOf(await FleetJsonAsync(), secondId);
        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.Equal(1, stopped.GetProperty("jobs_done").GetInt64());
        Assert.Contains("lost", (await FactoryBinary.RunAsync(project.Path, ["fleet"])).StandardOutput);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task Worker_StoppedBySigterm_GivesItsUnfinishedJobBack_ForAnotherToTakeAtOnce()
    {
        // A lease far longer than the test: only the release can hand the job over in time.
        await CreateAsync(
            "declare_wait_seconds: 1\nvalidation_lease_seconds: 3600\nfleet_heartbeat_seconds: 1\n",
            GateHarness.Packet(validation: "sleep 45 && sh tests/test_greet.sh", reproduction: null)
        );
        var server = await StartFrontAsync();
        var (first, firstId) = await StartWorkerAsync();
        var (client, runId) = await ClaimAndFixAsync(server);
        Assert.Equal(
            "validating",
            Redeclare.OutcomeOf(await client.CallToolAsync("declare_terminal_state", GateEndToEndTests.PrReady(runId)))
        );
        await first.WaitForLineAsync(JobStartedLine(), TimeSpan.FromSeconds(60));

        Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(75)));
        Assert.Contains(first.Stderr, l => l.Contains("given back to the queue"));
        Assert.Equal("queued", await ScalarAsync<string>("SELECT state FROM validation_jobs"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM audit WHERE action = 'job.released'"));
        var stopped = ProcessOf(await FleetJsonAsync(), firstId);
        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.Equal(0, stopped.GetProperty("jobs_running").GetInt64());
        Assert.Empty(Directory.GetDirectories(Path.Combine(factory.Paths.RunsFolder, ".validation")));
    }

    [Fact]
    public async Task Notify_WakesADeclarationWaitingOnAnotherProcess_WhosePollingAloneWouldAnswerValidating()
    {
        // Polling every 60 s after the first 2 s: a validation of about 4 s ends long before the next poll, and
        // the 30 s wait ends first. Only the worker's NOTIFY can bring the outcome to the waiting call.
        await CreateAsync(
            "declare_wait_seconds: 30\ndeclare_poll_milliseconds: 60000\nvalidation_lease_seconds: 10\n",
            GateHarness.Packet(validation: "sleep 4 && sh tests/test_greet.sh", reproduction: null)
        );
        var server = await StartFrontAsync();
        await StartWorkerAsync();
        var (client, runId) = await ClaimAndFixAsync(server);

        var clock = Stopwatch.StartNew();
        var outcome = await client.CallToolAsync("declare_terminal_state", GateEndToEndTests.PrReady(runId));
        Assert.True(outcome.IsError != true, Redeclare.TextOf(outcome));
        Assert.Equal("accepted", Redeclare.OutcomeOf(outcome)); // with polling alone: "validating", after 30 s
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(4), "accepted before the validation's 4 s sleep ended");
    }

    [GeneratedRegex(@"Worker (\S+) validating jobs")]
    private static partial Regex WorkerLine();

    [GeneratedRegex(@"Validation job \d+ \(run \d+, PR_READY\) started")]
    private static partial Regex JobStartedLine();
}
