using FactoryMcp.Bench.Dispatch;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Evidence;
using ModelContextProtocol.Client;

namespace FactoryMcp.Bench.Writes;

/// <summary>
/// `writes`: sequential record_evidence at synchronous=FULL (through the ledger operation the tool calls,
/// and through the SDK's client over stdio), the disk's own fsync rate beside it, and claim latency (the
/// claim's transaction alone, and a whole get_task_packet claim that also prepares the git workspace).
/// </summary>
internal static class WriteBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        FigureTable.Print(Console.Out, "writes and claims", await MeasureAsync(options));
        return 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        var factory = await Builds.FactoryAsync(options);
        var workspaceClaims = Math.Max(3, options.Ops / 50);
        using var ledger = await BenchLedger.CreateAsync(options.Directory, 0, withRepository: true);
        // One task for each writer below, the rest for the claims.
        await ledger.SeedAsync(3 + options.Runs * (options.Ops + workspaceClaims));
        var services = ledger.Services;
        var writer = await services.Agents.AuthenticateAsync("writer", null, null);
        var run = (await services.Claims.ClaimAsync(writer, newRun: false)).Run!;
        await services.Claims.StartLeaseAsync(writer, run.Id);
        var claimer = await services.Agents.AuthenticateAsync("claimer", null, null);
        var preparer = await services.Agents.AuthenticateAsync("preparer", null, null);

        List<double> ledgerRate = [],
            stdioRate = [],
            stdioFloor = [],
            agentRate = [],
            agentFloor = [],
            fsync = [],
            claimMs = [],
            packetClaimMs = [],
            writeMs = [];
        await using var stdio = await StdioWriter.StartAsync(ledger, factory, "writer-stdio");
        // The build agents register (README: the Native AOT agent build), when this run has it: given with
        // --factory-aot, or published by `all`. The ReadyToRun build is measured beside it.
        await using var agent = options.FactoryAot is { } agentBuild
            ? await StdioWriter.StartAsync(ledger, agentBuild, "writer-agent-build")
            : null;
        // Tiered up first, as the reads are: the ReadyToRun server recompiles its hot methods in its first seconds.
        var warm = options.Tiny ? TimeSpan.Zero : TimeSpan.FromSeconds(2);
        foreach (var session in new[] { stdio, agent })
            if (session is not null)
            {
                await Timing.WarmAsync(session.WriteAsync, Math.Max(1, options.Ops / 5), warm);
                await Timing.WarmAsync(session.ReadAsync, Math.Max(1, options.Ops / 5), warm);
            }
        for (var r = 0; r < options.Runs; r++)
        {
            var direct = await Timing.SequentialAsync(
                options.Ops,
                i =>
                    services.Evidence.RecordEvidenceAsync(
                        writer,
                        new EvidenceInput(run.Id, "log", $"step {i}", "a few lines of output\n"),
                        services.Config.Lines
                    )
            );
            ledgerRate.Add(direct.PerSecond);
            writeMs.Add(direct.MedianMs);
            var disk = FsyncRate.Measure(
                options.Directory,
                TimeSpan.FromSeconds(Math.Min(1, options.Duration.TotalSeconds))
            );
            fsync.Add(disk);
            var (rate, floor) = await stdio.MeasureAsync(options.Ops, disk);
            stdioRate.Add(rate);
            stdioFloor.Add(floor);
            if (agent is not null)
            {
                (rate, floor) = await agent.MeasureAsync(options.Ops, disk);
                agentRate.Add(rate);
                agentFloor.Add(floor);
            }
            claimMs.Add(
                (
                    await Timing.SequentialAsync(options.Ops, _ => services.Claims.ClaimAsync(claimer, newRun: true))
                ).MedianMs
            );
            packetClaimMs.Add(
                (
                    await Timing.SequentialAsync(
                        workspaceClaims,
                        _ => services.Packets.GetTaskPacketAsync(preparer, null, newRun: true)
                    )
                ).MedianMs
            );
        }
        // The target is the agent's view: the build agents register when this run has it, else the ReadyToRun one.
        var (viewRate, viewFloor, viewBuild) = agent is null
            ? (stdioRate, stdioFloor, "ReadyToRun build")
            : (agentRate, agentFloor, "Native AOT agent build");
        List<Figure> stdioFigures =
        [
            Figure.Bounded(
                "record_evidence, SDK client over stdio",
                "writes/s",
                viewRate,
                2000,
                atMost: false,
                $"sequential, through factory serve ({viewBuild}): the agent's view"
            ),
            new Figure(
                "record_evidence over stdio / disk fsync rate",
                "%",
                viewRate.Zip(fsync, (w, f) => 100 * w / f).ToList(),
                Note: "per repetition; each write needs one fsync (target: within 60% of it)"
            ),
            new Figure(
                "record_evidence over stdio, floor",
                "writes/s",
                viewFloor,
                Note: "1 / (the same client's read round trip + one fsync): no sequential write through stdio can be faster on this machine"
            ),
            new Figure(
                "record_evidence over stdio / its floor",
                "%",
                viewRate.Zip(viewFloor, (w, f) => 100 * w / f).ToList(),
                Note: "per repetition; the rest is the write's own work beyond a read's (its statements, the audit record, the commit around its fsync)"
            ),
        ];
        if (agent is not null)
            stdioFigures.Add(
                new Figure(
                    "record_evidence over stdio, ReadyToRun build",
                    "writes/s",
                    stdioRate,
                    Note: $"the same through the ReadyToRun build (floor {Figure.Format(new Figure("", "", stdioFloor).Median)}/s)"
                )
            );
        return
        [
            Figure.Bounded(
                "record_evidence, sequential, synchronous=FULL",
                "writes/s",
                ledgerRate,
                1500,
                atMost: false,
                "EvidenceLedger.RecordEvidenceAsync, as the tool calls it"
            ),
            new Figure("record_evidence, latency", "ms", writeMs, Note: "median per write"),
            .. stdioFigures,
            new Figure(
                "disk fsync rate (4 KiB write + fsync)",
                "fsync/s",
                fsync,
                Note: "same folder; a FULL commit needs ≥ 1"
            ),
            new Figure(
                "claim, the claim's transaction",
                "ms",
                claimMs,
                Note: $"median; queue of {options.Runs * options.Ops}"
            ),
            new Figure(
                "claim, get_task_packet with workspace",
                "ms",
                packetClaimMs,
                Note: "claim + git clone of the workspace + lease"
            ),
        ];
    }

    /// <summary>
    /// One stdio session's sequential record_evidence on the run it holds, and the same session's read round trip
    /// (the holder's get_task_packet) for the floor.
    /// </summary>
    private sealed class StdioWriter(McpClient client, long runId) : IAsyncDisposable
    {
        /// <summary>An agent named <paramref name="agent"/> holding a run, and its `factory serve` session.</summary>
        public static async Task<StdioWriter> StartAsync(BenchLedger ledger, string factory, string agent)
        {
            var services = ledger.Services;
            var caller = await services.Agents.AuthenticateAsync(agent, null, null);
            var run = (await services.Claims.ClaimAsync(caller, newRun: false)).Run!;
            await services.Claims.StartLeaseAsync(caller, run.Id);
            return new StdioWriter(
                await SdkClients.StdioAsync(FactoryCommand.Serve(factory, ledger.LedgerFile, agent)),
                run.Id
            );
        }

        public Task WriteAsync(int i) =>
            client
                .CallToolAsync(
                    "record_evidence",
                    new Dictionary<string, object?>
                    {
                        ["run_id"] = runId,
                        ["kind"] = "log",
                        ["summary"] = $"step {i}",
                        ["content"] = "a few lines of output\n",
                    }
                )
                .AsTask();

        public Task ReadAsync(int i) => client.CallToolAsync("get_task_packet").AsTask();

        /// <summary>
        /// The write rate, and its floor: one read round trip plus one fsync at <paramref name="fsyncPerSecond"/>.
        /// Both from the sequence's whole time (count over elapsed), so the slow tail counts in each.
        /// </summary>
        public async Task<(double Rate, double Floor)> MeasureAsync(int ops, double fsyncPerSecond)
        {
            var writes = await Timing.SequentialAsync(ops, WriteAsync);
            var reads = await Timing.SequentialAsync(ops, ReadAsync);
            return (writes.PerSecond, 1 / (1 / reads.PerSecond + 1 / fsyncPerSecond));
        }

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }
}
