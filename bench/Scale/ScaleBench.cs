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
/// generated in bulk), measured in turn within each repetition; then, per operation and repetition, the
/// slowest size's median over the fastest's.
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
        var random = new Random(9);
        var subjects = new List<Subject>();
        try
        {
            foreach (var size in options.Sizes) subjects.Add(await Subject.CreateAsync(options, size, random));

            // Repetitions measure every size in turn, the order rotating, so that a change in the machine's
            // state (another tenant, CPU frequency) falls on all sizes alike rather than on whichever size
            // was being measured at the time.
            for (var r = 0; r < options.Runs; r++)
                for (var k = 0; k < subjects.Count; k++)
                    await subjects[(r + k) % subjects.Count].MeasureOnceAsync(options, random);

            var figures = new List<Figure>();
            foreach (var subject in subjects)
            {
                var label = Label(subject.Size);
                figures.Add(new Figure($"get_task_packet by id @ {label} evidence rows", "ms", subject.Reads, Note: subject.Note));
                figures.Add(new Figure($"claim @ {label} evidence rows", "ms", subject.Claims));
                figures.Add(new Figure($"record_evidence @ {label} evidence rows", "ms", subject.Writes));
            }
            var span = $"{Label(options.Sizes.Min())} → {Label(options.Sizes.Max())}";
            figures.Add(Figure.Bounded($"reads, slowest / fastest size ({span})", "×", Spread(subjects.Select(s => s.Reads).ToList()), 1.5, atMost: true, "per repetition, of medians"));
            figures.Add(Figure.Bounded($"claims, slowest / fastest size ({span})", "×", Spread(subjects.Select(s => s.Claims).ToList()), 1.5, atMost: true));
            figures.Add(new Figure($"record_evidence, slowest / fastest size ({span})", "×", Spread(subjects.Select(s => s.Writes).ToList())));
            return figures;
        }
        finally
        {
            foreach (var subject in subjects) subject.Dispose();
        }
    }

    /// <summary>One ledger of a given size with its three callers, and the medians measured on it.</summary>
    private sealed class Subject(int size, BenchLedger ledger, long tasks, string note, FactoryMcp.Ledger.Agents.Caller reader, FactoryMcp.Ledger.Agents.Caller claimer, FactoryMcp.Ledger.Agents.Caller writer, long heldRun) : IDisposable
    {
        public int Size => size;
        public string Note => note;
        public List<double> Reads { get; } = [];
        public List<double> Claims { get; } = [];
        public List<double> Writes { get; } = [];

        public static async Task<Subject> CreateAsync(BenchOptions options, int size, Random random)
        {
            var ledger = await BenchLedger.CreateAsync(options.Directory, options.Runs * options.Ops + 2);
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
            var note = string.Create(CultureInfo.InvariantCulture, $"{tasks:#,0} tasks, {bytes / 1048576.0:0} MiB, generated in {generated:0.0} s");
            return new Subject(size, ledger, tasks, note, reader, claimer, writer, held.Id);
        }

        public async Task MeasureOnceAsync(BenchOptions options, Random random)
        {
            var services = ledger.Services;
            // Random ids over the whole history: cold pages count, as they would for a real ledger.
            Reads.Add((await Timing.SequentialAsync(options.Ops, _ => services.Packets.GetTaskPacketAsync(reader, random.NextInt64(1, tasks + 1), false))).MedianMs);
            Claims.Add((await Timing.SequentialAsync(options.Ops, _ => services.Runs.ClaimAsync(claimer, newRun: true))).MedianMs);
            Writes.Add((await Timing.SequentialAsync(options.Ops, i =>
                services.Runs.RecordEvidenceAsync(writer, new EvidenceInput(heldRun, "log", $"step {i}", "a few lines of output\n"), services.Config.Lines))).MedianMs);
        }

        public void Dispose() => ledger.Dispose();
    }

    /// <summary>For each repetition: the largest median across sizes over the smallest.</summary>
    private static List<double> Spread(List<List<double>> bySize) =>
        Enumerable.Range(0, bySize[0].Count).Select(r => bySize.Max(s => s[r]) / bySize.Min(s => s[r])).ToList();

    private static string Label(int size) => size >= 1_000_000 && size % 1_000_000 == 0 ? $"{size / 1_000_000}M"
        : size >= 1_000 && size % 1_000 == 0 ? $"{size / 1_000}k" : size.ToString(CultureInfo.InvariantCulture);
}
