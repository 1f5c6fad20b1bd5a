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
/// alone (the ledger's share). The differences say where the time goes. Also the server's peak resident
/// memory after reads and writes ("loaded").
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
        var held = (await ledger.Services.Runs.ClaimAsync(writer, newRun: false)).Run!;
        await ledger.Services.Runs.StartLeaseAsync(writer, held.Id);

        List<double> sdkMs = [], sdkRate = [], rawMs = [], rawRate = [], memoryMs = [], serviceMs = [], serviceRate = [], loaded = [];
        var warmup = Math.Max(20, options.Ops / 5);
        await using var memory = await InMemoryServer.ConnectAsync(ledger.Services, reader);
        for (var run = 0; run < options.Runs; run++)
        {
            // The packet service alone: the ledger's queries and the view.
            await Timing.SequentialAsync(warmup, i => ledger.Services.Packets.GetTaskPacketAsync(reader, 1 + i % Tasks, false));
            var service = await Timing.SequentialAsync(options.Ops, i => ledger.Services.Packets.GetTaskPacketAsync(reader, 1 + i % Tasks, false));
            serviceMs.Add(service.MedianMs);
            serviceRate.Add(service.PerSecond);

            // The tool surface in process: adapter, Markdown, JSON, the SDK's dispatch, in-memory pipes.
            await Timing.SequentialAsync(warmup, i => memory.Client.CallToolAsync("get_task_packet", Args(i)).AsTask());
            memoryMs.Add((await Timing.SequentialAsync(options.Ops, i => memory.Client.CallToolAsync("get_task_packet", Args(i)).AsTask())).MedianMs);

            // A real server process, raw JSON-RPC over its stdin/stdout; then writes, then its peak memory.
            await using (var peer = StdioPeer.Start(FactoryCommand.Serve(factory, ledger.LedgerFile, "reader-writes")))
            {
                await peer.InitializeAsync();
                await Timing.SequentialAsync(warmup, i => peer.CallToolAsync("get_task_packet", RawArgs(i)));
                var raw = await Timing.SequentialAsync(options.Ops, i => peer.CallToolAsync("get_task_packet", RawArgs(i)));
                rawMs.Add(raw.MedianMs);
                rawRate.Add(raw.PerSecond);
                await Timing.SequentialAsync(options.Ops, i => peer.CallToolAsync("record_evidence", new JsonObject
                {
                    ["run_id"] = held.Id, ["kind"] = "log", ["summary"] = $"step {i}", ["content"] = "a few lines of output\n",
                }));
                loaded.Add(peer.Memory().PeakMiB);
            }

            // The SDK's client over stdio, as an agent's host connects.
            await using (var client = await SdkClients.StdioAsync(FactoryCommand.Serve(factory, ledger.LedgerFile, "reader")))
            {
                await Timing.SequentialAsync(warmup, i => client.CallToolAsync("get_task_packet", Args(i)).AsTask());
                var sdk = await Timing.SequentialAsync(options.Ops, i => client.CallToolAsync("get_task_packet", Args(i)).AsTask());
                sdkMs.Add(sdk.MedianMs);
                sdkRate.Add(sdk.PerSecond);
            }
        }
        return
        [
            Figure.Bounded("get_task_packet by id, SDK client over stdio", "ms", sdkMs, 0.3, atMost: true, "median per call, the agent's view"),
            Figure.Bounded("get_task_packet by id, SDK client over stdio, rate", "calls/s", sdkRate, 3000, atMost: false, "sequential"),
            new Figure("get_task_packet by id, raw JSON-RPC over stdio", "ms", rawMs, Note: "no client library"),
            new Figure("get_task_packet by id, raw JSON-RPC over stdio, rate", "calls/s", rawRate),
            new Figure("get_task_packet by id, in process over pipes", "ms", memoryMs, Note: "tool surface + SDK, no process"),
            new Figure("get_task_packet by id, packet service only", "ms", serviceMs, Note: "ledger queries + view"),
            new Figure("get_task_packet by id, packet service only, rate", "calls/s", serviceRate),
            Figure.Bounded("resident memory loaded, factory serve (stdio)", "MiB", loaded, 150, atMost: true, $"VmHWM after {warmup + options.Ops} reads and {options.Ops} writes"),
        ];
    }

    private static Dictionary<string, object?> Args(int i) => new() { ["task_id"] = 1 + i % Tasks };

    private static JsonObject RawArgs(int i) => new() { ["task_id"] = 1 + i % Tasks };
}
