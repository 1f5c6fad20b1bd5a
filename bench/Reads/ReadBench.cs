using System.Text.Json.Nodes;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;

namespace FactoryMcp.Bench.Reads;

/// <summary>
/// `reads`: warm get_task_packet by id, sequential, from the outside in: the SDK's client over stdio to a
/// running `factory serve` (the figure with the target), raw JSON-RPC over stdio (no client library), the
/// same tool surface in this process over in-memory pipes (no process boundary), and the packet service
/// alone (the ledger's share). The differences say where the time goes. Repetitions alternate between
/// the four. Also the server's peak resident memory after reads and writes ("loaded").
/// </summary>
internal static class ReadBench
{
    private const int Tasks = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        FigureTable.Print(Console.Out, "warm reads: get_task_packet by id", await MeasureAsync(options));
        return 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        var factory = await Builds.FactoryAsync(options);
        using var ledger = await BenchLedger.CreateAsync(options.Directory, Tasks);
        var reader = await ledger.Services.Agents.AuthenticateAsync("reader", null, null);
        // Evidence writes for the loaded-memory figure go to a run this agent holds.
        var writer = await ledger.Services.Agents.AuthenticateAsync("reader-writes", null, null);
        var held = (await ledger.Services.Claims.ClaimAsync(writer, newRun: false)).Run!;
        await ledger.Services.Claims.StartLeaseAsync(writer, held.Id);
        // The call agents actually make: the holder of a run asking for its own packet (resume: workspace,
        // evidence still required, lessons), compared with a bare SDK server's echo on the same kind of client.
        var holder = await ledger.Services.Agents.AuthenticateAsync("holder", null, null);
        var holding = (await ledger.Services.Claims.ClaimAsync(holder, newRun: false)).Run!;
        await ledger.Services.Claims.StartLeaseAsync(holder, holding.Id);
        var bare = await Builds.BareAsync(options);

        await using var memory = await InMemoryServer.ConnectAsync(ledger.Services, reader);
        await using var holderMemory = await InMemoryServer.ConnectAsync(ledger.Services, holder);
        await using var peer = await StdioPeer.StartAsync(
            FactoryCommand.Serve(factory, ledger.LedgerFile, "reader-writes")
        );
        await peer.InitializeAsync();
        await using var client = await SdkClients.StdioAsync(
            FactoryCommand.Serve(factory, ledger.LedgerFile, "reader")
        );
        await using var holderClient = await SdkClients.StdioAsync(
            FactoryCommand.Serve(factory, ledger.LedgerFile, "holder")
        );
        await using var bareClient = await SdkClients.StdioAsync(
            new ServerCommand(bare, [], new Dictionary<string, string?>(), options.Directory)
        );
        Func<int, Task> holderSdk = _ => holderClient.CallToolAsync("get_task_packet").AsTask();
        Func<int, Task> holderService = _ => ledger.Services.Packets.GetTaskPacketAsync(holder, null, false);
        Func<int, Task> holderInMemory = _ => holderMemory.Client.CallToolAsync("get_task_packet").AsTask();
        Func<int, Task> echo = i =>
            bareClient.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"m{i}" }).AsTask();
        Func<int, Task> service = i => ledger.Services.Packets.GetTaskPacketAsync(reader, 1 + i % Tasks, false);
        Func<int, Task> inMemory = i => memory.Client.CallToolAsync("get_task_packet", Args(i)).AsTask();
        Func<int, Task> raw = i =>
            peer.CallToolAsync("get_task_packet", new JsonObject { ["task_id"] = 1 + i % Tasks });
        Func<int, Task> sdk = i => client.CallToolAsync("get_task_packet", Args(i)).AsTask();
        var warm = options.Tiny ? TimeSpan.Zero : TimeSpan.FromSeconds(2);
        foreach (var operation in new[] { service, inMemory, raw, sdk, holderSdk, holderService, holderInMemory, echo })
            await Timing.WarmAsync(operation, options.Ops, warm);

        List<double> sdkMs = [],
            sdkRate = [],
            rawMs = [],
            rawRate = [],
            memoryMs = [],
            serviceMs = [],
            serviceRate = [],
            loaded = [],
            holderMs = [],
            holderServiceMs = [],
            holderMemoryMs = [],
            echoMs = [],
            holderOverEcho = [];
        for (var run = 0; run < options.Runs; run++)
        {
            var s = await Timing.SequentialAsync(options.Ops, service);
            serviceMs.Add(s.MedianMs);
            serviceRate.Add(s.PerSecond);
            memoryMs.Add((await Timing.SequentialAsync(options.Ops, inMemory)).MedianMs);
            var r = await Timing.SequentialAsync(options.Ops, raw);
            rawMs.Add(r.MedianMs);
            rawRate.Add(r.PerSecond);
            var k = await Timing.SequentialAsync(options.Ops, sdk);
            sdkMs.Add(k.MedianMs);
            sdkRate.Add(k.PerSecond);
            var h = (await Timing.SequentialAsync(options.Ops, holderSdk)).MedianMs;
            var e = (await Timing.SequentialAsync(options.Ops, echo)).MedianMs;
            holderMs.Add(h);
            echoMs.Add(e);
            holderOverEcho.Add(h - e);
            holderServiceMs.Add((await Timing.SequentialAsync(options.Ops, holderService)).MedianMs);
            holderMemoryMs.Add((await Timing.SequentialAsync(options.Ops, holderInMemory)).MedianMs);
            // Writes too, then the server's peak so far.
            await Timing.SequentialAsync(
                options.Ops / 2,
                i =>
                    peer.CallToolAsync(
                        "record_evidence",
                        new JsonObject
                        {
                            ["run_id"] = held.Id,
                            ["kind"] = "log",
                            ["summary"] = $"step {i}",
                            ["content"] = "a few lines of output\n",
                        }
                    )
            );
            loaded.Add(peer.Memory().PeakMiB);
        }
        return
        [
            Figure.Bounded(
                "get_task_packet by id, SDK client over stdio",
                "ms",
                sdkMs,
                0.3,
                atMost: true,
                "median per call, the agent's view"
            ),
            Figure.Bounded(
                "get_task_packet by id, SDK client over stdio, rate",
                "calls/s",
                sdkRate,
                3000,
                atMost: false,
                "sequential"
            ),
            Figure.Bounded(
                "get_task_packet by the run's holder, SDK client over stdio",
                "ms",
                holderMs,
                0.25,
                atMost: true,
                "median per call: resume with workspace, evidence required, lessons"
            ),
            new Figure(
                "echo on a bare SDK server, SDK client over stdio",
                "ms",
                echoMs,
                Note: "the same client against the SDK's quick-start server"
            ),
            new Figure(
                "get_task_packet by the run's holder, beyond the bare echo",
                "ms",
                holderOverEcho,
                Note: "per repetition: holder median minus echo median"
            ),
            new Figure(
                "get_task_packet by the run's holder, packet service only",
                "ms",
                holderServiceMs,
                Note: "ledger reads + view, in process"
            ),
            new Figure(
                "get_task_packet by the run's holder, in process over pipes",
                "ms",
                holderMemoryMs,
                Note: "tool surface + SDK, no process"
            ),
            new Figure("get_task_packet by id, raw JSON-RPC over stdio", "ms", rawMs, Note: "no client library"),
            new Figure("get_task_packet by id, raw JSON-RPC over stdio, rate", "calls/s", rawRate),
            new Figure(
                "get_task_packet by id, in process over pipes",
                "ms",
                memoryMs,
                Note: "tool surface + SDK, no process"
            ),
            new Figure("get_task_packet by id, packet service only", "ms", serviceMs, Note: "ledger query + view"),
            new Figure("get_task_packet by id, packet service only, rate", "calls/s", serviceRate),
            Figure.Bounded(
                "resident memory loaded, factory serve (stdio)",
                "MiB",
                loaded,
                150,
                atMost: true,
                "VmHWM, after each repetition's reads and writes"
            ),
        ];
    }

    private static Dictionary<string, object?> Args(int i) => new() { ["task_id"] = 1 + i % Tasks };
}
