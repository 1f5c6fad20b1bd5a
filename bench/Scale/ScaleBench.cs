using System.Diagnostics;
using System.Globalization;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Runs;

namespace FactoryMcp.Bench.Scale;

/// <summary>
/// `scale`: reads (get_task_packet by id, any task of the ledger's history), claims and record_evidence
/// on ledgers holding 1k, 100k and 1M evidence rows (ten per finished run, each with its audit record,
/// generated in bulk); then, per operation, the slowest size's median over the fastest's.
/// </summary>
internal static class ScaleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        FigureTable.Print(Console.Out, "scale: evidence rows in the ledger", await MeasureAsync(options));
        return 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        var figures = new List<Figure>();
        var reads = new List<List<double>>();
        var claims = new List<List<double>>();
        var writes = new List<List<double>>();
        var random = new Random(9);
        foreach (var size in options.Sizes)
        {
            using var ledger = await BenchLedger.CreateAsync(options.Directory, options.Runs * options.Ops + 2);
            var clock = Stopwatch.StartNew();
            await History.AddAsync(ledger, size);
            var generated = clock.Elapsed.TotalSeconds;
            var services = ledger.Services;
            var tasks = await services.Db.QuerySingleOrDefaultAsync<long>("SELECT max(id) FROM tasks");
            var bytes = new FileInfo(ledger.LedgerFile).Length + (File.Exists(ledger.LedgerFile + "-wal") ? new FileInfo(ledger.LedgerFile + "-wal").Length : 0);
            var reader = await services.Agents.AuthenticateAsync("reader", null, null);
            var claimer = await services.Agents.AuthenticateAsync("claimer", null, null);
            var writer = await services.Agents.AuthenticateAsync("writer", null, null);
            var held = (await services.Runs.ClaimAsync(writer, newRun: false)).Run!;
            await services.Runs.StartLeaseAsync(writer, held.Id);

            // Unmeasured first: the runtime's tiering and this ledger's page cache, as in a server that has run a while.
            await Timing.SequentialAsync(Math.Max(10, options.Ops / 2), _ => services.Packets.GetTaskPacketAsync(reader, random.NextInt64(1, tasks + 1), false));
            await Timing.SequentialAsync(Math.Max(10, options.Ops / 10), i =>
                services.Runs.RecordEvidenceAsync(writer, new EvidenceInput(held.Id, "log", $"warm {i}", "a few lines of output\n"), services.Config.Lines));

            List<double> read = [], claim = [], write = [];
            for (var r = 0; r < options.Runs; r++)
            {
                // Random ids over the whole history: cold pages count, as they would for a real ledger.
                read.Add((await Timing.SequentialAsync(options.Ops, _ => services.Packets.GetTaskPacketAsync(reader, random.NextInt64(1, tasks + 1), false))).MedianMs);
                claim.Add((await Timing.SequentialAsync(options.Ops, _ => services.Runs.ClaimAsync(claimer, newRun: true))).MedianMs);
                write.Add((await Timing.SequentialAsync(options.Ops, i =>
                    services.Runs.RecordEvidenceAsync(writer, new EvidenceInput(held.Id, "log", $"step {i}", "a few lines of output\n"), services.Config.Lines))).MedianMs);
            }
            var label = Label(size);
            var note = string.Create(CultureInfo.InvariantCulture, $"{tasks:#,0} tasks, {bytes / 1048576.0:0} MiB, generated in {generated:0.0} s");
            figures.Add(new Figure($"get_task_packet by id @ {label} evidence rows", "ms", read, Note: note));
            figures.Add(new Figure($"claim @ {label} evidence rows", "ms", claim));
            figures.Add(new Figure($"record_evidence @ {label} evidence rows", "ms", write));
            reads.Add(read);
            claims.Add(claim);
            writes.Add(write);
        }
        var span = $"{Label(options.Sizes.Min())} → {Label(options.Sizes.Max())}";
        figures.Add(Figure.Bounded($"reads, slowest / fastest size ({span})", "×", Spread(reads), 1.5, atMost: true, "per repetition, of medians"));
        figures.Add(Figure.Bounded($"claims, slowest / fastest size ({span})", "×", Spread(claims), 1.5, atMost: true));
        figures.Add(new Figure($"record_evidence, slowest / fastest size ({span})", "×", Spread(writes)));
        return figures;
    }

    /// <summary>For each repetition: the largest median across sizes over the smallest.</summary>
    private static List<double> Spread(List<List<double>> bySize) =>
        Enumerable.Range(0, bySize[0].Count).Select(r => bySize.Max(s => s[r]) / bySize.Min(s => s[r])).ToList();

    private static string Label(int size) => size >= 1_000_000 && size % 1_000_000 == 0 ? $"{size / 1_000_000}M"
        : size >= 1_000 && size % 1_000 == 0 ? $"{size / 1_000}k" : size.ToString(CultureInfo.InvariantCulture);
}
