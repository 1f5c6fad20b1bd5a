using System.Text.Json.Nodes;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Report;

namespace FactoryMcp.Bench.Startup;

/// <summary>
/// `startup`: spawn → initialize reply of the published `factory serve` (stdio, ReadyToRun) and of a bare
/// SDK server built by the benchmark, spawned in alternation so load on the machine hits both alike; their
/// ratio per pair; and each one's resident memory once idle (after initialize and tools/list). Measured for
/// the default publish and, unless --composite no, for the fast-startup one.
/// </summary>
internal static class StartupBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        FigureTable.Print(Console.Out, "startup and idle memory", await MeasureAsync(options));
        return 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        List<Figure> figures = [];
        // The default publish (what `dotnet publish src/Server -c Release` gives) has no absolute target of
        // its own here: the 150 ms target is held by the fast-startup publish, the build to register with
        // agents that spawn a server per session. Both flavours are held to the ratio against a bare SDK
        // server published the same way.
        figures.AddRange(
            await MeasurePairAsync(
                options,
                "R2R",
                await Builds.FactoryAsync(options),
                await Builds.BareAsync(options),
                startTarget: null,
                idleTarget: 80,
                boardTarget: null
            )
        );
        if (options.Composite)
            figures.AddRange(
                await MeasurePairAsync(
                    options,
                    "R2R composite",
                    await Builds.FactoryCompositeAsync(options),
                    await Builds.BareCompositeAsync(options),
                    startTarget: 150,
                    idleTarget: 80,
                    boardTarget: null
                )
            );
        // Issue 18's targets are held by the Native AOT publish: 60 ms to initialize, 40 MiB idle, 50 ms for a
        // CLI command, each against the bare SDK server published the same way.
        if (options.Aot)
            figures.AddRange(
                await MeasurePairAsync(
                    options,
                    "Native AOT",
                    await Builds.FactoryAotAsync(options),
                    await Builds.BareAotAsync(options),
                    startTarget: 60,
                    idleTarget: 40,
                    boardTarget: 50
                )
            );
        return figures;
    }

    private static async Task<IReadOnlyList<Figure>> MeasurePairAsync(
        BenchOptions options,
        string flavour,
        string factory,
        string bare,
        double? startTarget,
        double idleTarget,
        double? boardTarget
    )
    {
        using var ledger = await BenchLedger.CreateAsync(options.Directory, 1);
        await ledger.Services.Agents.AuthenticateAsync("starter", null, null);
        // Both start in the same empty folder: the generic host watches its content root (the working directory).
        var cwd = Directory.CreateDirectory(Path.Combine(options.Directory, $"cwd-{Guid.NewGuid():N}"[..12])).FullName;
        var factoryCommand = FactoryCommand.Serve(factory, ledger.LedgerFile, "starter") with
        {
            WorkingDirectory = cwd,
        };
        var bareCommand = new ServerCommand(bare, [], new Dictionary<string, string?>(), cwd);

        // One unmeasured spawn each: the first start after a publish pays for cold disk caches.
        await SpawnAsync(factoryCommand, idle: false);
        await SpawnAsync(bareCommand, idle: false);
        List<double> ours = [],
            theirs = [],
            ratio = [],
            oursIdle = [],
            theirsIdle = [],
            oursCpu = [],
            theirsCpu = [],
            board = [];
        var boardCommand = new ServerCommand(
            factory,
            ["board"],
            FactoryCommand.Environment(ledger.LedgerFile, []),
            cwd
        );
        await CliRun.TimeAsync(boardCommand); // unmeasured, as for the servers
        for (var i = 0; i < options.Spawns; i++)
        {
            // Alternate who goes first, so neither always follows the other's exit.
            var a = i % 2 == 0 ? await SpawnAsync(factoryCommand, idle: true) : default;
            var b = await SpawnAsync(bareCommand, idle: true);
            if (i % 2 == 1)
                a = await SpawnAsync(factoryCommand, idle: true);
            ours.Add(a.Ms);
            theirs.Add(b.Ms);
            ratio.Add(a.Ms / b.Ms);
            oursIdle.Add(a.IdleMiB);
            theirsIdle.Add(b.IdleMiB);
            oursCpu.Add(a.CpuMs);
            theirsCpu.Add(b.CpuMs);
            board.Add(await CliRun.TimeAsync(boardCommand));
        }
        try
        {
            Directory.Delete(cwd);
        }
        catch (IOException) { }
        var start = $"spawn → initialize, factory serve (stdio, {flavour})";
        return
        [
            startTarget is { } target
                ? Figure.Bounded(
                    start,
                    "ms",
                    ours,
                    target,
                    atMost: true,
                    flavour == "Native AOT"
                        ? "the agent build (native-aot-agent), or --factory-aot"
                        : "self-contained: the fast-startup publish profile"
                )
                : new Figure(start, "ms", ours, Note: "framework-dependent: the default publish"),
            new Figure(
                $"spawn → initialize, bare SDK server ({flavour})",
                "ms",
                theirs,
                Note: "generic host + WithStdioServerTransport + one tool, published alike"
            ),
            Figure.Bounded(
                $"spawn → initialize, factory / bare ({flavour})",
                "×",
                ratio,
                1.3,
                atMost: true,
                "per alternating pair"
            ),
            new Figure(
                $"CPU time to initialize, factory serve ({flavour})",
                "ms",
                oursCpu,
                Note: "user + system at the reply (10 ms ticks); less noisy than wall time on a busy machine"
            ),
            new Figure($"CPU time to initialize, bare SDK server ({flavour})", "ms", theirsCpu),
            Figure.Bounded(
                $"resident memory idle, factory serve (stdio, {flavour})",
                "MiB",
                oursIdle,
                idleTarget,
                atMost: true,
                "VmRSS 1 s after initialize + tools/list"
            ),
            new Figure($"resident memory idle, bare SDK server ({flavour})", "MiB", theirsIdle),
            boardTarget is { } most
                ? Figure.Bounded($"factory board, spawn → exit ({flavour})", "ms", board, most, atMost: true, BoardNote)
                : new Figure($"factory board, spawn → exit ({flavour})", "ms", board, Note: BoardNote),
        ];
    }

    private const string BoardNote = "a CLI command on the same one-task ledger, output read to the end";

    public readonly record struct Spawn(double Ms, double CpuMs, double IdleMiB);

    /// <summary>Milliseconds from spawn to the initialize reply, CPU used by then; with <paramref name="idle"/>, also MiB resident once it has settled.</summary>
    public static async Task<Spawn> SpawnAsync(ServerCommand command, bool idle)
    {
        await using var peer = await StdioPeer.StartAsync(command);
        var elapsed = await peer.InitializeAsync();
        var cpu = peer.CpuMilliseconds();
        if (!idle)
            return new Spawn(elapsed.TotalMilliseconds, cpu, 0);
        await peer.RequestAsync("tools/list", new JsonObject());
        // A second, so work a server defers past its initialize reply (the factory's validation worker
        // starts 500 ms in) is part of its idle figure.
        await Task.Delay(1000);
        return new Spawn(elapsed.TotalMilliseconds, cpu, peer.Memory().RssMiB);
    }
}
