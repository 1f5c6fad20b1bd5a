using FactoryMcp.Bench.Dispatch;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Evidence;

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
        await ledger.SeedAsync(2 + options.Runs * (options.Ops + workspaceClaims));
        var services = ledger.Services;
        var writer = await services.Agents.AuthenticateAsync("writer", null, null);
        var run = (await services.Claims.ClaimAsync(writer, newRun: false)).Run!;
        await services.Claims.StartLeaseAsync(writer, run.Id);
        var remote = await services.Agents.AuthenticateAsync("writer-stdio", null, null);
        var remoteRun = (await services.Claims.ClaimAsync(remote, newRun: false)).Run!;
        await services.Claims.StartLeaseAsync(remote, remoteRun.Id);
        var claimer = await services.Agents.AuthenticateAsync("claimer", null, null);
        var preparer = await services.Agents.AuthenticateAsync("preparer", null, null);

        List<double> ledgerRate = [],
            stdioRate = [],
            fsync = [],
            claimMs = [],
            packetClaimMs = [],
            writeMs = [];
        await using var client = await SdkClients.StdioAsync(
            FactoryCommand.Serve(factory, ledger.LedgerFile, "writer-stdio")
        );
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
            stdioRate.Add(
                (
                    await Timing.SequentialAsync(
                        options.Ops,
                        i =>
                            client
                                .CallToolAsync(
                                    "record_evidence",
                                    new Dictionary<string, object?>
                                    {
                                        ["run_id"] = remoteRun.Id,
                                        ["kind"] = "log",
                                        ["summary"] = $"step {i}",
                                        ["content"] = "a few lines of output\n",
                                    }
                                )
                                .AsTask()
                    )
                ).PerSecond
            );
            fsync.Add(
                FsyncRate.Measure(options.Directory, TimeSpan.FromSeconds(Math.Min(1, options.Duration.TotalSeconds)))
            );
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
            Figure.Bounded(
                "record_evidence, SDK client over stdio",
                "writes/s",
                stdioRate,
                2000,
                atMost: false,
                "sequential, through factory serve: the agent's view"
            ),
            new Figure(
                "record_evidence over stdio / disk fsync rate",
                "%",
                stdioRate.Zip(fsync, (w, f) => 100 * w / f).ToList(),
                Note: "per repetition; each write needs one fsync (target: within 60% of it)"
            ),
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
}
