using System.Text.Json.Nodes;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;
using FactoryMcp.Bench.Startup;

namespace FactoryMcp.Bench.Compare;

/// <summary>
/// `compare`: the factory beside another stdio MCP server, measured in alternation in one run (so the
/// machine's load falls on both alike) over raw JSON-RPC: spawn → initialize, a warm tool call, resident
/// memory idle and after the calls; then the peer's figure over ours.
/// </summary>
internal static class CompareBench
{
    private static readonly HashSet<string> Own =
    [
        "--peer",
        "--peer-tool",
        "--peer-args",
        "--peer-cwd",
        "--peer-env",
        "--tool",
        "--args",
    ];

    public const string Usage = """
        compare --peer "COMMAND ARGS..." --peer-tool NAME [--peer-args JSON] [--peer-cwd DIR] [--peer-env K=V,K=V]
                [--tool get_task_packet] [--args '{"task_id":1}'] [common options]
          The peer command is split on spaces (no shell); wrap anything fancier in a script.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args, Own);
        if (
            !options.Extra.TryGetValue("--peer", out var peerLine)
            || !options.Extra.TryGetValue("--peer-tool", out var peerTool)
        )
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var words = peerLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var env = new Dictionary<string, string?>();
        if (options.Extra.TryGetValue("--peer-env", out var pairs))
            foreach (var pair in pairs.Split(',', StringSplitOptions.RemoveEmptyEntries))
                env[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
        var peer = new ServerCommand(words[0], words[1..], env, options.Extra.GetValueOrDefault("--peer-cwd"));
        var peerArgs = JsonNode.Parse(options.Extra.GetValueOrDefault("--peer-args") ?? "{}")!.AsObject();

        var factory = await Builds.FactoryAsync(options);
        using var ledger = await BenchLedger.CreateAsync(options.Directory, 1);
        await ledger.Services.Agents.AuthenticateAsync("comparer", null, null);
        var ours = FactoryCommand.Serve(factory, ledger.LedgerFile, "comparer");
        var ourTool = options.Extra.GetValueOrDefault("--tool") ?? "get_task_packet";
        var ourArgs = JsonNode.Parse(options.Extra.GetValueOrDefault("--args") ?? """{"task_id":1}""")!.AsObject();

        Console.WriteLine(
            $"factory-bench compare: factory `{ourTool}` vs `{peer}` `{peerTool}`, {options.Spawns} spawns and {options.Runs} × {options.Ops} calls each, alternating"
        );
        List<double> ourStart = [],
            peerStart = [],
            ourIdle = [],
            peerIdle = [];
        await StartupBench.SpawnAsync(ours, idle: false);
        await StartupBench.SpawnAsync(peer, idle: false);
        for (var i = 0; i < options.Spawns; i++)
        {
            foreach (var side in i % 2 == 0 ? new[] { 0, 1 } : [1, 0])
            {
                var spawn = await StartupBench.SpawnAsync(side == 0 ? ours : peer, idle: true);
                (side == 0 ? ourStart : peerStart).Add(spawn.Ms);
                (side == 0 ? ourIdle : peerIdle).Add(spawn.IdleMiB);
            }
        }

        List<double> ourMs = [],
            peerMs = [],
            ourRate = [],
            peerRate = [];
        double ourPeak,
            peerPeak;
        await using (var a = await StdioPeer.StartAsync(ours))
        await using (var b = await StdioPeer.StartAsync(peer))
        {
            await a.InitializeAsync();
            await b.InitializeAsync();
            var warm = options.Tiny ? TimeSpan.Zero : TimeSpan.FromSeconds(2);
            await Timing.WarmAsync(_ => a.CallToolAsync(ourTool, ourArgs), options.Ops, warm);
            await Timing.WarmAsync(_ => b.CallToolAsync(peerTool, peerArgs), options.Ops, warm);
            for (var r = 0; r < options.Runs; r++)
            {
                foreach (var side in r % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                {
                    var sample =
                        side == 0
                            ? await Timing.SequentialAsync(options.Ops, _ => a.CallToolAsync(ourTool, ourArgs))
                            : await Timing.SequentialAsync(options.Ops, _ => b.CallToolAsync(peerTool, peerArgs));
                    (side == 0 ? ourMs : peerMs).Add(sample.MedianMs);
                    (side == 0 ? ourRate : peerRate).Add(sample.PerSecond);
                }
            }
            ourPeak = a.Memory().PeakMiB;
            peerPeak = b.Memory().PeakMiB;
        }

        FigureTable.Print(
            Console.Out,
            "factory",
            [
                new Figure("spawn → initialize", "ms", ourStart),
                new Figure($"warm {ourTool}", "ms", ourMs),
                new Figure($"warm {ourTool}, rate", "calls/s", ourRate),
                new Figure("resident memory idle", "MiB", ourIdle),
                new Figure("resident memory peak after calls", "MiB", [ourPeak]),
            ]
        );
        FigureTable.Print(
            Console.Out,
            $"peer: {peer}",
            [
                new Figure("spawn → initialize", "ms", peerStart),
                new Figure($"warm {peerTool}", "ms", peerMs),
                new Figure($"warm {peerTool}, rate", "calls/s", peerRate),
                new Figure("resident memory idle", "MiB", peerIdle, Note: "the process and its children"),
                new Figure("resident memory peak after calls", "MiB", [peerPeak]),
            ]
        );
        FigureTable.Print(
            Console.Out,
            "peer / factory (above 1: the factory is faster or smaller)",
            [
                new Figure("spawn → initialize", "×", Ratios(peerStart, ourStart)),
                new Figure("warm call latency", "×", Ratios(peerMs, ourMs)),
                new Figure("resident memory idle", "×", Ratios(peerIdle, ourIdle)),
                new Figure("resident memory peak after calls", "×", [peerPeak / ourPeak]),
            ]
        );
        return 0;
    }

    private static List<double> Ratios(List<double> peer, List<double> ours) =>
        peer.Zip(ours, (p, o) => p / o).ToList();
}
