using System.Diagnostics;
using System.Globalization;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lines;

namespace FactoryMcp.Bench.Dispatch;

/// <summary>
/// `dispatch`: claims per second with 1, 8 and 32 concurrent claimers, record_evidence per second with 1
/// and 8 writers, and the disk's fsync rate beside them. Each figure runs on a fresh ledger on the same
/// disk, through the same ledger operations the tools call (each claimer and writer is its own agent with
/// its own connections; the workspace's git preparation is not part of a claim here). With `--postgres URL`
/// every figure is measured on SQLite and then on PostgreSQL (a fresh database on that server each time).
/// </summary>
internal static class DispatchBench
{
    private sealed record Row(
        string Figure,
        string Engine,
        int Workers,
        long Operations,
        double Seconds,
        long Errors,
        string Note
    )
    {
        public double PerSecond => Operations / Seconds;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        Console.WriteLine(
            $"factory-bench dispatch: {options.Duration.TotalSeconds:0.#} s per figure, ledgers in {options.Directory}, {Environment.ProcessorCount} cores"
        );
        var fsync = FsyncRate.Measure(
            options.Directory,
            TimeSpan.FromSeconds(Math.Min(2, options.Duration.TotalSeconds))
        );
        var rows = new List<Row>();
        foreach (var postgres in options.Postgres is null ? [null] : new[] { null, options.Postgres })
        {
            foreach (var claimers in new[] { 1, 8, 32 })
                rows.Add(await ClaimsAsync(options, claimers, postgres));
            foreach (var writers in new[] { 1, 8 })
                rows.Add(await EvidenceAsync(options, writers, postgres));
            // The same 8 writers with group commit off (one transaction and one commit per write): what it saves.
            rows.Add(await EvidenceAsync(options, 8, postgres, batchLimit: 1));
            foreach (var readers in new[] { 1, 8 })
                rows.Add(await ReadsAsync(options, readers, postgres));
            foreach (var queued in options.Tiny ? new[] { 100, 1_000 } : [1_000, 10_000, 100_000])
                rows.Add(await ClaimAtQueueAsync(options, queued, postgres));
        }

        Console.WriteLine();
        Console.WriteLine(
            $"{"figure", -18} {"engine", -10} {"workers", 7} {"ops", 8} {"seconds", 8} {"ops/s", 9} {"errors", 6}  note"
        );
        foreach (var r in rows)
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{r.Figure, -18} {r.Engine, -10} {r.Workers, 7} {r.Operations, 8} {r.Seconds, 8:0.00} {r.PerSecond, 9:0} {r.Errors, 6}  {r.Note}"
                )
            );
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{"disk fsync", -18} {"", -10} {1, 7} {"", 8} {"", 8} {fsync, 9:0} {"", 6}  4 KiB write + fsync, same disk"
            )
        );
        return rows.Any(r => r.Errors > 0) ? 1 : 0;
    }

    private static string EngineOf(string? postgres) => postgres is null ? "sqlite" : "postgresql";

    private static async Task<Row> ClaimsAsync(BenchOptions options, int claimers, string? postgres)
    {
        // Enough queued work that no claimer runs dry before the clock stops.
        var queued = Math.Max(3000, claimers * 200);
        using var ledger = await BenchLedger.CreateAsync(options.Directory, queued, postgres: postgres);
        var claims = ledger.Services.Claims;
        var registry = new AgentRegistry(ledger.Db);
        var callers = new List<Caller>();
        for (var i = 0; i < claimers; i++)
            callers.Add(await registry.AuthenticateAsync($"claimer-{i}", null, null));

        long claimed = 0,
            errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            callers.Select(caller =>
                Task.Run(async () =>
                {
                    while (clock.Elapsed < options.Duration)
                    {
                        try
                        {
                            var outcome = await claims.ClaimAsync(caller, newRun: true);
                            if (outcome.Status != ClaimOutcome.Claimed)
                                break;
                            Interlocked.Increment(ref claimed);
                        }
                        catch (Exception e)
                        {
                            Interlocked.Increment(ref errors);
                            Console.Error.WriteLine($"claim failed: {e.Message}");
                        }
                    }
                })
            )
        );
        var seconds = clock.Elapsed.TotalSeconds;
        var distinct = await ledger.Db.QuerySingleOrDefaultAsync<long>("SELECT count(DISTINCT task_id) FROM runs");
        var total = await ledger.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs");
        if (distinct != total)
            errors += total - distinct;
        return new Row(
            "claims",
            EngineOf(postgres),
            claimers,
            claimed,
            seconds,
            errors,
            $"queue of {queued}; {total} runs on {distinct} distinct tasks"
        );
    }

    /// <summary>get_task_packet by id (the packet service the tool calls, in process) from concurrent readers.</summary>
    private static async Task<Row> ReadsAsync(BenchOptions options, int readers, string? postgres)
    {
        const int tasks = 100;
        using var ledger = await BenchLedger.CreateAsync(options.Directory, tasks, postgres: postgres);
        var callers = new List<Caller>();
        for (var i = 0; i < readers; i++)
            callers.Add(await ledger.Services.Agents.AuthenticateAsync($"reader-{i}", null, null));
        await Timing.WarmAsync(
            i => ledger.Services.Packets.GetTaskPacketAsync(callers[0], 1 + i % tasks, false),
            options.Ops,
            options.Tiny ? TimeSpan.Zero : TimeSpan.FromSeconds(1)
        );
        long read = 0,
            errors = 0;
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            callers.Select(caller =>
                Task.Run(async () =>
                {
                    for (var n = 0; clock.Elapsed < options.Duration; n++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        try
                        {
                            await ledger.Services.Packets.GetTaskPacketAsync(caller, 1 + n % tasks, false);
                            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                            Interlocked.Increment(ref read);
                        }
                        catch (Exception e)
                        {
                            Interlocked.Increment(ref errors);
                            Console.Error.WriteLine($"get_task_packet failed: {e.Message}");
                        }
                    }
                })
            )
        );
        var median = new Timing.Sample(latencies.ToList(), clock.Elapsed.TotalSeconds).MedianMs;
        return new Row(
            "get_task_packet",
            EngineOf(postgres),
            readers,
            read,
            clock.Elapsed.TotalSeconds,
            errors,
            string.Create(CultureInfo.InvariantCulture, $"by id, packet service in process; median {median:0.000} ms")
        );
    }

    /// <summary>One claimer's claims from a queue of <paramref name="queued"/> tasks: a claim must cost the same at any length.</summary>
    private static async Task<Row> ClaimAtQueueAsync(BenchOptions options, int queued, string? postgres)
    {
        using var ledger = await BenchLedger.CreateAsync(options.Directory, queued, postgres: postgres);
        var caller = await ledger.Services.Agents.AuthenticateAsync("claimer", null, null);
        var count = options.Tiny ? 5 : 200;
        var sample = await Timing.SequentialAsync(
            count,
            async _ =>
            {
                var outcome = await ledger.Services.Claims.ClaimAsync(caller, newRun: true);
                if (outcome.Status != ClaimOutcome.Claimed)
                    throw new InvalidOperationException($"the queue of {queued} ran dry");
            }
        );
        return new Row(
            "claim at queue",
            EngineOf(postgres),
            1,
            count,
            sample.Seconds,
            0,
            string.Create(
                CultureInfo.InvariantCulture,
                $"queue of {queued:N0}; median {sample.MedianMs:0.00} ms, p90 {sample.Percentile(0.9):0.00} ms"
            )
        );
    }

    private static async Task<Row> EvidenceAsync(
        BenchOptions options,
        int writers,
        string? postgres,
        int batchLimit = 64
    )
    {
        using var ledger = await BenchLedger.CreateAsync(options.Directory, writers, postgres: postgres);
        ledger.Db.WriteBatchLimit = batchLimit;
        var claims = ledger.Services.Claims;
        var evidence = ledger.Services.Evidence;
        var registry = new AgentRegistry(ledger.Db);
        var held = new List<(Caller Caller, long Run)>();
        for (var i = 0; i < writers; i++)
        {
            var caller = await registry.AuthenticateAsync($"writer-{i}", null, null);
            var claim = await claims.ClaimAsync(caller, newRun: false);
            await claims.StartLeaseAsync(caller, claim.Run!.Id);
            held.Add((caller, claim.Run.Id));
        }

        long recorded = 0,
            errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(
            held.Select(h =>
                Task.Run(async () =>
                {
                    for (var n = 0; clock.Elapsed < options.Duration; n++)
                    {
                        try
                        {
                            await evidence.RecordEvidenceAsync(
                                h.Caller,
                                new EvidenceInput(h.Run, "log", $"step {n}", "a few lines of output\n"),
                                LineCatalog.Empty
                            );
                            Interlocked.Increment(ref recorded);
                        }
                        catch (Exception e)
                        {
                            Interlocked.Increment(ref errors);
                            Console.Error.WriteLine($"record_evidence failed: {e.Message}");
                        }
                    }
                })
            )
        );
        return new Row(
            "record_evidence",
            EngineOf(postgres),
            writers,
            recorded,
            clock.Elapsed.TotalSeconds,
            errors,
            (postgres is null ? "synchronous=FULL, each its own run" : "each its own run")
                + (
                    batchLimit == 1 ? "; group commit off"
                    : writers > 1 ? "; group commit"
                    : ""
                )
        );
    }
}
