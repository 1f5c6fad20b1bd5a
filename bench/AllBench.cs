using System.Diagnostics;
using System.Globalization;
using FactoryMcp.Bench.Http;
using FactoryMcp.Bench.Published;
using FactoryMcp.Bench.Reads;
using FactoryMcp.Bench.Report;
using FactoryMcp.Bench.Scale;
using FactoryMcp.Bench.Startup;
using FactoryMcp.Bench.Validation;
using FactoryMcp.Bench.Writes;

namespace FactoryMcp.Bench;

/// <summary>
/// `all`: every figure of DESIGN section 12 in one run, each section printed as it finishes, then the
/// targets together. Sections run one after another (never at once: they would measure each other).
/// </summary>
internal static class AllBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        var started = Stopwatch.StartNew();
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"factory-bench all: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {LoadAverage()}, {options.Runs} repetitions × {options.Ops} ops, {options.Spawns} spawns, sizes {string.Join('/', options.Sizes)}, {options.Agents} HTTP agents{(options.Tiny ? " (tiny: a smoke run, the figures mean nothing)" : "")}"
            )
        );
        // Publish first, so no section's clock includes a build.
        options = options with
        {
            Factory = await Builds.FactoryAsync(options),
            Bare = await Builds.BareAsync(options),
        };
        if (options.Composite)
            options = options with
            {
                FactoryComposite = await Builds.FactoryCompositeAsync(options),
                BareComposite = await Builds.BareCompositeAsync(options),
            };
        // The Native AOT builds too: the startup figures compare the agent build with the bare server, the stdio
        // writes are measured through it (the build agents register) beside the ReadyToRun one, and the full build
        // serves the HTTP figures (what `factory up` runs fastest).
        if (options.Aot)
            options = options with
            {
                FactoryAot = await Builds.FactoryAotAsync(options),
                BareAot = await Builds.BareAotAsync(options),
                FactoryFullAot = await Builds.FactoryFullAotAsync(options),
            };

        var sections = new (string Title, Func<BenchOptions, Task<IReadOnlyList<Figure>>> Measure)[]
        {
            ("startup and idle memory", StartupBench.MeasureAsync),
            ("tools/list per role", ToolsListBench.MeasureAsync),
            ("warm reads: get_task_packet by id", ReadBench.MeasureAsync),
            ("writes and claims", WriteBench.MeasureAsync),
            ("scale: evidence rows in the ledger", ScaleBench.MeasureAsync),
            ($"{options.Agents} concurrent agents over HTTP", HttpAgentsBench.MeasureAsync),
            ("validation job overhead", ValidationBench.MeasureAsync),
        };
        var all = new List<Figure>();
        foreach (var (title, measure) in sections)
        {
            var clock = Stopwatch.StartNew();
            var figures = await measure(options);
            FigureTable.Print(Console.Out, $"{title} ({clock.Elapsed.TotalSeconds:0} s)", figures);
            all.AddRange(figures);
        }
        var targets = all.Where(f => f.Met is not null).ToList();
        FigureTable.Print(
            Console.Out,
            $"DESIGN section 12 targets: {targets.Count(f => f.Met == true)} of {targets.Count} met (in {started.Elapsed.TotalMinutes:0.0} min)",
            targets
        );
        return 0;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
