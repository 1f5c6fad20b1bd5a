using System.Diagnostics;
using System.Globalization;
using FactoryMcp.Bench.Http;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Agents;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Bench.Fleet;

/// <summary>
/// `fleet`: a fleet on one PostgreSQL ledger, all of it real processes on this machine. The benchmark starts a
/// private PostgreSQL cluster (<see cref="PrivatePostgres"/>), a ledger in a real git repository whose tasks'
/// only Validation command is `sleep S` (2 s by default), and published `factory worker --concurrency 1`
/// processes. Per repetition it queues the same number of PR_READY jobs for 1, then 2, then 3 workers and times
/// them from the first declaration to the last decision (jobs per minute, the ratio to 1 worker, CPU seconds per
/// job of the workers with their reaped children); claims through two `factory serve --http --no-validate`
/// replicas, alternating (SDK clients, get_task_packet with a new run and its workspace); and a worker SIGKILLed
/// just after it took a job: how long until another worker starts that job, at the shortest lease allowed.
/// The bench process is the builder: it claims, changes a file and declares in process, taking no job itself.
/// </summary>
internal static partial class FleetBench
{
    public const string JobsOption = "--jobs";
    public const string CheckSecondsOption = "--check-seconds";
    public const string ClaimsOption = "--claims";

    /// <summary>The shortest lease factory.yaml allows (FactorySettings): a killed worker's job waits about this long.</summary>
    private const int LeaseSeconds = 2;

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args, new HashSet<string> { JobsOption, CheckSecondsOption, ClaimsOption });
        var figures = await MeasureAsync(options);
        FigureTable.Print(Console.Out, "a fleet on one PostgreSQL ledger", figures);
        Console.WriteLine(Machine("at the end"));
        if (options.Tiny)
            Console.WriteLine("(tiny: a smoke run, the figures mean nothing)");
        return figures.Any(f => f.Met == false) ? 1 : 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        var jobs = (int)Option(options, JobsOption, options.Tiny ? 3 : 6);
        var checkSeconds = Option(options, CheckSecondsOption, options.Tiny ? 0.5 : 2);
        var claims = (int)Option(options, ClaimsOption, options.Tiny ? 3 : 20);
        var factory = await Builds.FactoryAsync(options);
        Console.WriteLine(Machine("at the start"));

        using var postgres = await PrivatePostgres.StartAsync();
        using var ledger = await BenchLedger.CreateAsync(
            options.Directory,
            0,
            withRepository: true,
            postgres: postgres.ServerUrl
        );
        var url = ledger.Paths.PostgreSql!.Url;
        var repository = ledger.Repository!;
        // No wait in declarations (the builder queues jobs and polls the ledger), the shortest lease, and enough of
        // the host's validation slots for three single-job workers (the default, 2, would cap the third).
        await File.AppendAllTextAsync(
            ledger.Paths.FactoryConfig,
            $"\nledger: {url}\ndeclare_wait_seconds: 0\nvalidation_lease_seconds: {LeaseSeconds}\nvalidation_concurrency: 3\nfleet_heartbeat_seconds: 1\n"
        );
        var slots = Path.Combine(options.Directory, $"slots-{Guid.NewGuid():N}"[..14]);
        Directory.CreateDirectory(slots);
        var environment = FactoryCommand.Environment(url, new() { ["FACTORY_VALIDATION_SLOTS"] = slots });

        var warmClaims = 2;
        await ledger.SeedAsync(
            options.Runs * (6 * jobs + 1) + 2 * (claims * options.Runs + warmClaims),
            Packet(checkSeconds)
        );
        var fleet = new FleetRig(factory, repository, environment, ledger);
        try
        {
            var (rates, ratios, cpu, failed) = await ThroughputAsync(fleet, options, jobs);
            var (claimMs, claimFailures) = await ClaimsAsync(fleet, options, claims, warmClaims);
            var takeover = await TakeoverAsync(fleet, options);
            var command = $"`sleep {checkSeconds.ToString(CultureInfo.InvariantCulture)}`";
            List<Figure> figures = [];
            for (var n = 1; n <= 3; n++)
                figures.Add(
                    new Figure(
                        $"fleet, validation jobs/min, {n} worker{(n == 1 ? "" : "s")}",
                        "jobs/min",
                        rates[n],
                        Note: $"{jobs} PR_READY jobs of {command}, declared at once; factory worker --concurrency 1 each"
                    )
                );
            for (var n = 2; n <= 3; n++)
                figures.Add(
                    new Figure(
                        $"fleet, jobs/min {n} workers / 1 worker",
                        "×",
                        ratios[n],
                        Note: $"{n}.0 would be linear; {Environment.ProcessorCount} cores"
                    )
                );
            for (var n = 1; n <= 3; n++)
                figures.Add(
                    new Figure(
                        $"fleet, worker CPU per job, {n} worker{(n == 1 ? "" : "s")}",
                        "s",
                        cpu[n],
                        Note: "utime+stime of the workers and their reaped children (git, bwrap, the command), /proc/PID/stat"
                    )
                );
            figures.Add(
                new Figure(
                    "fleet, claim through replica 1",
                    "ms",
                    claimMs[0],
                    Note: "SDK client, 2026-07-28, get_task_packet new run (claim + workspace), alternating replicas"
                )
            );
            figures.Add(new Figure("fleet, claim through replica 2", "ms", claimMs[1]));
            figures.Add(
                new Figure(
                    "fleet, killed worker's job waits",
                    "s",
                    takeover,
                    Note: $"SIGKILL → another worker starts it; validation_lease_seconds: {LeaseSeconds} (the minimum)"
                )
            );
            figures.Add(Exact("fleet, validation jobs refused or undecided", failed, "every job should be accepted"));
            figures.Add(Exact("fleet, failed claims", claimFailures, "errors and claims that claimed nothing"));
            return figures;
        }
        finally
        {
            await fleet.DisposeAsync();
            try
            {
                Directory.Delete(slots, recursive: true);
            }
            catch (IOException) { }
        }
    }

    /// <summary>Per repetition: 1 worker, then a second, then a third, each time with the same number of jobs.</summary>
    private static async Task<(
        Dictionary<int, List<double>> Rates,
        Dictionary<int, List<double>> Ratios,
        Dictionary<int, List<double>> Cpu,
        long Failed
    )> ThroughputAsync(FleetRig fleet, BenchOptions options, int jobs)
    {
        var rates = Enumerable.Range(1, 3).ToDictionary(n => n, _ => new List<double>());
        var ratios = Enumerable.Range(1, 3).ToDictionary(n => n, _ => new List<double>());
        var cpu = Enumerable.Range(1, 3).ToDictionary(n => n, _ => new List<double>());
        var failed = 0L;
        for (var r = 0; r < options.Runs; r++)
        {
            List<FleetWorker> workers = [];
            try
            {
                for (var n = 1; n <= 3; n++)
                {
                    workers.Add(await fleet.StartWorkerAsync());
                    var runs = await fleet.PrepareAsync(jobs);
                    var cpuBefore = workers.Sum(w => w.CpuSeconds());
                    var (seconds, refused) = await fleet.ValidateAsync(runs);
                    var cpuAfter = workers.Sum(w => w.CpuSeconds());
                    failed += refused;
                    rates[n].Add(jobs / seconds * 60);
                    cpu[n].Add((cpuAfter - cpuBefore) / jobs);
                }
                for (var n = 2; n <= 3; n++)
                    ratios[n].Add(rates[n][^1] / rates[1][^1]);
            }
            finally
            {
                foreach (var w in workers)
                    await w.DisposeAsync();
            }
        }
        return (rates, ratios, cpu, failed);
    }

    /// <summary>Claims through two replicas, alternating, each agent of a repetition its own (a token's rate limit).</summary>
    private static async Task<(List<double>[] Ms, long Failures)> ClaimsAsync(
        FleetRig fleet,
        BenchOptions options,
        int claims,
        int warmClaims
    )
    {
        List<double>[] medians =
        [
            [],
            [],
        ];
        var failures = 0L;
        await using var r1 = await HttpServer.StartAsync(fleet.Replica());
        await using var r2 = await HttpServer.StartAsync(fleet.Replica());
        HttpServer[] replicas = [r1, r2];
        for (var r = -1; r < options.Runs; r++)
        {
            var (_, token) = await fleet.Ledger.Services.Agents.AddAsync(
                "human:bench",
                $"fleet-claimer-{r + 1}",
                Roles.Agent,
                null,
                []
            );
            var clients = await Task.WhenAll(replicas.Select(s => SdkClients.HttpAsync(s.Endpoint, token)));
            try
            {
                List<double>[] latencies =
                [
                    [],
                    [],
                ];
                // Repetition -1 warms both replicas (first calls compile); it is not counted.
                for (var i = 0; i < (r < 0 ? warmClaims : claims); i++)
                for (var k = 0; k < 2; k++)
                {
                    var start = Stopwatch.GetTimestamp();
                    try
                    {
                        var result = await clients[k]
                            .CallToolAsync("get_task_packet", new Dictionary<string, object?> { ["new"] = true });
                        latencies[k].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        if (
                            result.IsError == true
                            || result.StructuredContent is not { } s
                            || s.GetProperty("status").GetString() != "claimed"
                        )
                        {
                            failures++;
                            Console.Error.WriteLine(
                                $"claim through replica {k + 1}: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(b => b.Text))}"
                            );
                        }
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        failures++;
                        Console.Error.WriteLine($"claim through replica {k + 1}: {e.Message}");
                    }
                }
                if (r >= 0)
                    for (var k = 0; k < 2; k++)
                        medians[k].Add(new Figure("", "", latencies[k]).Median);
            }
            finally
            {
                foreach (var client in clients)
                    await client.DisposeAsync();
            }
        }
        return (medians, failures);
    }

    /// <summary>
    /// Two idle workers; one job; whichever takes it is SIGKILLed at once. The wait runs from the kill to the
    /// other worker's start of the same job (its second start), as the ledger records it, polled every 10 ms.
    /// </summary>
    private static async Task<List<double>> TakeoverAsync(FleetRig fleet, BenchOptions options)
    {
        List<double> waits = [];
        for (var r = 0; r < options.Runs; r++)
        {
            await using var a = await fleet.StartWorkerAsync();
            await using var b = await fleet.StartWorkerAsync();
            var runs = await fleet.PrepareAsync(1);
            var before = await fleet.LastJobAsync();
            await fleet.DeclareAsync(runs[0]);
            var taken = await fleet.UntilAsync(
                async () => (await fleet.JobsAfterAsync(before)).FirstOrDefault(j => j.State == "running"),
                "a worker to start the job"
            );
            var victim = taken.Owner == a.Id ? a : b;
            var survivor = victim == a ? b : a;
            var clock = Stopwatch.StartNew();
            await victim.KillAsync();
            var after = await fleet.UntilAsync(
                async () =>
                    (await fleet.JobsAfterAsync(before)).FirstOrDefault(j =>
                        j.Id == taken.Id && (j.Starts >= 2 || j.State is "accepted" or "refused")
                    ),
                "another worker to take the killed worker's job"
            );
            var waited = clock.Elapsed.TotalSeconds;
            if (after.Starts >= 2 && after.Owner == survivor.Id)
                waits.Add(waited);
            else
                Console.Error.WriteLine(
                    $"fleet: job {taken.Id} was decided by its first worker before the kill landed; repetition not counted"
                );
            await fleet.UntilDecidedAsync(before, 1);
        }
        return waits;
    }

    private static string Packet(double checkSeconds) =>
        BenchLedger.Packet.Replace(
            "- `true`",
            $"- `sleep {checkSeconds.ToString(CultureInfo.InvariantCulture)}`",
            StringComparison.Ordinal
        );

    private static double Option(BenchOptions options, string name, double fallback)
    {
        if (!options.Extra.TryGetValue(name, out var text))
            return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"{name} needs a positive number, not '{text}'.");
    }

    /// <summary>The core count and the load average (1, 5, 15 min) beside which the figures were measured.</summary>
    private static string Machine(string when)
    {
        var load = File.Exists("/proc/loadavg")
            ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
            : "unknown";
        return $"fleet: {Environment.ProcessorCount} cores, load average {load} {when}";
    }

    private static Figure Exact(string name, double count, string note) =>
        new(name, "count", [count], "= 0", count == 0, note);
}
