using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Bench.Http;

/// <summary>
/// `http`: N agents (32 by default), each with its own bearer token and SDK client, at once against one
/// `factory serve --http`: each claims with get_task_packet (new run, real workspace) and records evidence
/// on it, several times per repetition. Then the ledger is checked: every claim seen by a client is a run
/// of that agent, no task was claimed twice, none went missing, and no call failed (SQLITE_BUSY included).
/// The clients speak the newest revision (2026-07-28, stateless: a server per request) unless
/// <c>--protocol</c> names an older one (2025-11-25: a session per client).
/// </summary>
internal static class HttpAgentsBench
{
    public const string ProtocolOption = "--protocol";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args, new HashSet<string> { ProtocolOption });
        var figures = await MeasureAsync(options);
        FigureTable.Print(Console.Out, $"{options.Agents} concurrent agents over HTTP", figures);
        return figures.Any(f => f.Met == false) ? 1 : 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        // Served by the full Native AOT build when this run has it (--factory-full-aot, or published by `all`): an
        // HTTP server's measured seconds are otherwise its JIT's first seconds too.
        var (factory, build) = options.FactoryFullAot is { } fullAot
            ? (fullAot, "the full Native AOT build")
            : (await Builds.FactoryAsync(options), "the ReadyToRun build");
        var protocol = options.Extra.GetValueOrDefault(ProtocolOption);
        var perRun = options.Agents * options.TasksPerAgent;
        using var ledger = await BenchLedger.CreateAsync(options.Directory, 0, withRepository: true);
        await ledger.SeedAsync(perRun * options.Runs);
        var tokens = new List<(string Name, string Token)>();
        for (var i = 0; i < options.Agents; i++)
        {
            var (agent, token) = await ledger.Services.Agents.AddAsync(
                "human:bench",
                $"http-{i}",
                Roles.Agent,
                null,
                []
            );
            tokens.Add((agent.Name, token));
        }

        // The per-token rate limit (600 a minute by default) would cap the evidence writers below at 10 calls a second
        // each: the benchmark measures the ledger, so it raises the limit. The claims above never come near it.
        await File.WriteAllTextAsync(ledger.Paths.FactoryConfig, "http:\n  rate_limit_per_minute: 1000000\n");
        await using var server = await HttpServer.StartAsync(FactoryCommand.ServeHttp(factory, ledger.LedgerFile));
        var claims = new ConcurrentBag<(string Agent, long Run, long Task)>();
        var errors = new ConcurrentBag<string>();
        List<double> rate = [],
            medianMs = [],
            p99Ms = [],
            claimMs = [];
        for (var r = 0; r < options.Runs; r++)
        {
            var clients = await Task.WhenAll(
                tokens.Select(t => SdkClients.HttpAsync(server.Endpoint, t.Token, protocol))
            );
            var latencies = new ConcurrentBag<double>();
            var claimLatencies = new ConcurrentBag<double>();
            var clock = Stopwatch.StartNew();
            try
            {
                await Task.WhenAll(
                    clients.Select(
                        (client, i) =>
                            Task.Run(() =>
                                AgentAsync(client, tokens[i].Name, options, claims, errors, latencies, claimLatencies)
                            )
                    )
                );
            }
            finally
            {
                foreach (var client in clients)
                    await client.DisposeAsync();
            }
            rate.Add(latencies.Count / clock.Elapsed.TotalSeconds);
            var all = new Figure("", "", latencies.ToList());
            medianMs.Add(all.Median);
            p99Ms.Add(all.Percentile(0.99));
            claimMs.Add(new Figure("", "", claimLatencies.ToList()).Median);
        }
        var peak = server.Memory().PeakMiB;
        var (readMs, readRate, readCpu) = await WarmReadsAsync(server, tokens, claims, protocol, options, errors);
        var writers = await HttpEvidenceWriters.MeasureAsync(
            server,
            tokens,
            claims,
            Path.GetDirectoryName(ledger.LedgerFile)!,
            protocol,
            options,
            errors
        );

        // The ledger's account of what the clients saw.
        var db = ledger.Db;
        var runs = await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM runs r JOIN agents a ON a.id = r.agent_id WHERE a.name LIKE 'http-%'"
        );
        var distinctTasks = await db.QuerySingleOrDefaultAsync<long>("SELECT count(DISTINCT task_id) FROM runs");
        var allRuns = await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs");
        var matching = 0L;
        foreach (var claim in claims)
            matching += await db.QuerySingleOrDefaultAsync<long>(
                "SELECT count(*) FROM runs r JOIN agents a ON a.id = r.agent_id WHERE r.id = @run AND r.task_id = @task AND a.name = @agent",
                SqlArgs.Of(
                    new
                    {
                        run = claim.Run,
                        task = claim.Task,
                        agent = claim.Agent,
                    }
                )
            );
        var expected = perRun * options.Runs;
        var doubles = allRuns - distinctTasks + (claims.Count - claims.Select(c => c.Task).Distinct().Count());
        var lost = (expected - claims.Count) + (claims.Count - matching) + (runs - claims.Count);
        var busy = server.Stderr.Count(l =>
            l.Contains("SQLITE_BUSY", StringComparison.Ordinal)
            || l.Contains("database is locked", StringComparison.Ordinal)
        );
        foreach (var e in errors.Take(5))
            Console.Error.WriteLine($"http agent error: {e}");

        var n = options.Agents;
        return
        [
            new Figure(
                $"{n} agents over HTTP, calls/s",
                "calls/s",
                rate,
                Note: $"get_task_packet (claim + workspace) then {options.EvidencePerClaim} record_evidence, {options.TasksPerAgent}× per agent; protocol {protocol ?? "2026-07-28 (stateless)"}; served by {build}"
            ),
            new Figure($"{n} agents over HTTP, call latency median", "ms", medianMs),
            new Figure($"{n} agents over HTTP, call latency p99", "ms", p99Ms),
            new Figure(
                $"{n} agents over HTTP, claim latency median",
                "ms",
                claimMs,
                Note: "get_task_packet with workspace under contention"
            ),
            new Figure(
                "warm get_task_packet by id over HTTP, median",
                "ms",
                readMs,
                Note: "one SDK client, sequential: the HTTP stack's own cost per call (authentication, limits, the SDK)"
            ),
            new Figure("warm get_task_packet by id over HTTP, rate", "calls/s", readRate),
            new Figure(
                "warm get_task_packet by id over HTTP, server CPU per call",
                "ms",
                readCpu,
                Note: "user+system CPU of factory serve --http (its background loops included), per call"
            ),
            .. writers,
            Exact($"{n} agents over HTTP, double claims", doubles, $"{allRuns} runs on {distinctTasks} distinct tasks"),
            Exact(
                $"{n} agents over HTTP, lost claims",
                lost,
                $"{claims.Count} of {expected} claims seen by clients, {matching} matching ledger rows"
            ),
            Exact(
                $"{n} agents over HTTP, failed calls",
                errors.Count,
                $"{busy} SQLITE_BUSY / locked lines in the server log"
            ),
            Exact($"{n} agents over HTTP, SQLITE_BUSY in server log", busy, ""),
            Figure.Bounded(
                "resident memory loaded, factory serve --http",
                "MiB",
                [peak],
                150,
                atMost: true,
                $"VmHWM after {options.Runs} rounds of {n} agents"
            ),
        ];
    }

    /// <summary>
    /// Sequential reads of one claimed task's packet by one client per repetition, each with another agent's
    /// token (a token's rate limit is 600 a minute, so at most 500 reads each).
    /// </summary>
    private static async Task<(List<double> MedianMs, List<double> Rate, List<double> ServerCpuMs)> WarmReadsAsync(
        HttpServer server,
        List<(string Name, string Token)> tokens,
        ConcurrentBag<(string Agent, long Run, long Task)> claims,
        string? protocol,
        BenchOptions options,
        ConcurrentBag<string> errors
    )
    {
        List<double> medianMs = [],
            rate = [],
            serverCpuMs = [];
        if (claims.IsEmpty)
            return (medianMs, rate, serverCpuMs);
        var read = new Dictionary<string, object?> { ["task_id"] = claims.First().Task };
        var ops = Math.Min(options.Ops, 500);
        for (var r = 0; r < options.Runs; r++)
        {
            await using var client = await SdkClients.HttpAsync(
                server.Endpoint,
                tokens[r % tokens.Count].Token,
                protocol
            );
            for (var i = 0; i < 10; i++)
                await CallAsync(client, "get_task_packet", read, errors);
            var latencies = new List<double>(ops);
            var cpuBefore = ProcessCpu.Milliseconds(server.ProcessId);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < ops; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await CallAsync(client, "get_task_packet", read, errors);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            rate.Add(ops / clock.Elapsed.TotalSeconds);
            serverCpuMs.Add((ProcessCpu.Milliseconds(server.ProcessId) - cpuBefore) / ops);
            medianMs.Add(new Figure("", "", latencies).Median);
        }
        return (medianMs, rate, serverCpuMs);
    }

    private static Figure Exact(string name, double count, string note) =>
        new(name, "count", [count], "= 0", count == 0, note);

    private static async Task AgentAsync(
        McpClient client,
        string name,
        BenchOptions options,
        ConcurrentBag<(string, long, long)> claims,
        ConcurrentBag<string> errors,
        ConcurrentBag<double> latencies,
        ConcurrentBag<double> claimLatencies
    )
    {
        for (var t = 0; t < options.TasksPerAgent; t++)
        {
            var start = Stopwatch.GetTimestamp();
            var packet = await CallAsync(client, "get_task_packet", new() { ["new"] = true }, errors);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            latencies.Add(elapsed);
            claimLatencies.Add(elapsed);
            if (packet?.StructuredContent is not { } s || s.GetProperty("status").GetString() != "claimed")
            {
                if (packet is not null)
                    errors.Add($"{name}: get_task_packet gave {packet.StructuredContent}");
                return;
            }
            var runId = s.GetProperty("run_id").GetInt64();
            claims.Add((name, runId, s.GetProperty("task_id").GetInt64()));
            for (var e = 0; e < options.EvidencePerClaim; e++)
            {
                start = Stopwatch.GetTimestamp();
                await CallAsync(
                    client,
                    "record_evidence",
                    new()
                    {
                        ["run_id"] = runId,
                        ["kind"] = "plan",
                        ["summary"] = $"step {e}",
                        ["content"] = "what I will do\n",
                    },
                    errors
                );
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
    }

    private static async Task<CallToolResult?> CallAsync(
        McpClient client,
        string tool,
        Dictionary<string, object?> args,
        ConcurrentBag<string> errors
    )
    {
        try
        {
            var result = await client.CallToolAsync(tool, args);
            if (result.IsError == true)
                errors.Add(
                    $"{tool}: {string.Join(' ', result.Content.OfType<TextContentBlock>().Select(b => b.Text))}"
                );
            return result;
        }
        catch (Exception e)
        {
            errors.Add($"{tool}: {e.Message}");
            return null;
        }
    }
}
