using System.Diagnostics;
using System.Globalization;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Evidence;

namespace FactoryMcp.Bench.Scale;

/// <summary>
/// `scale`: reads (get_task_packet by id, any task of the ledger's history), claims and record_evidence
/// on ledgers holding 1k, 100k and 1M evidence rows (ten per finished run, each with its audit record,
/// generated in bulk), the sizes interleaved call by call within each repetition; then, per operation and
/// repetition, the slowest size's median over the fastest's.
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
            foreach (var size in options.Sizes)
                subjects.Add(await Subject.CreateAsync(options, size, random));

            // Warm means tiered up (see Timing.WarmAsync); then each repetition interleaves the sizes call by
            // call, so the machine's state at any moment (another tenant, CPU frequency, the runtime's
            // recompilations) falls on all sizes alike instead of on whichever size was measured then.
            var warm = options.Tiny ? TimeSpan.Zero : TimeSpan.FromSeconds(2);
            await Timing.WarmAsync(i => subjects[i % subjects.Count].ReadAsync(random), options.Ops, warm);
            for (var r = 0; r < options.Runs; r++)
            {
                await InterleavedAsync(
                    subjects,
                    options.Ops,
                    (s, _) => s.ReadAsync(random),
                    (s, ms) => s.Reads.Add(ms)
                );
                await InterleavedAsync(subjects, options.Ops, (s, _) => s.ClaimAsync(), (s, ms) => s.Claims.Add(ms));
                await InterleavedAsync(subjects, options.Ops, (s, i) => s.WriteAsync(i), (s, ms) => s.Writes.Add(ms));
            }

            var figures = new List<Figure>();
            foreach (var subject in subjects)
            {
                var label = Label(subject.Size);
                figures.Add(
                    new Figure(
                        $"get_task_packet by id @ {label} evidence rows",
                        "ms",
                        subject.Reads,
                        Note: subject.Note
                    )
                );
                figures.Add(new Figure($"claim @ {label} evidence rows", "ms", subject.Claims));
                figures.Add(new Figure($"record_evidence @ {label} evidence rows", "ms", subject.Writes));
            }
            var span = $"{Label(options.Sizes.Min())} → {Label(options.Sizes.Max())}";
            figures.Add(
                Figure.Bounded(
                    $"reads, slowest / fastest size ({span})",
                    "×",
                    Spread(subjects.Select(s => s.Reads).ToList()),
                    1.5,
                    atMost: true,
                    "per repetition, of medians"
                )
            );
            figures.Add(
                Figure.Bounded(
                    $"claims, slowest / fastest size ({span})",
                    "×",
                    Spread(subjects.Select(s => s.Claims).ToList()),
                    1.5,
                    atMost: true
                )
            );
            figures.Add(
                new Figure(
                    $"record_evidence, slowest / fastest size ({span})",
                    "×",
                    Spread(subjects.Select(s => s.Writes).ToList())
                )
            );
            return figures;
        }
        finally
        {
            foreach (var subject in subjects)
                subject.Dispose();
        }
    }

    /// <summary>One ledger of a given size with its three callers, and the medians measured on it.</summary>
    private sealed class Subject(
        int size,
        BenchLedger ledger,
        long tasks,
        string note,
        FactoryMcp.Ledger.Agents.Caller reader,
        FactoryMcp.Ledger.Agents.Caller claimer,
        FactoryMcp.Ledger.Agents.Caller writer,
        long heldRun
    ) : IDisposable
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
            var bytes =
                new FileInfo(ledger.LedgerFile).Length
                + (File.Exists(ledger.LedgerFile + "-wal") ? new FileInfo(ledger.LedgerFile + "-wal").Length : 0);
            var reader = await services.Agents.AuthenticateAsync("reader", null, null);
            var claimer = await services.Agents.AuthenticateAsync("claimer", null, null);
            var writer = await services.Agents.AuthenticateAsync("writer", null, null);
            var held = (await services.Claims.ClaimAsync(writer, newRun: false)).Run!;
            await services.Claims.StartLeaseAsync(writer, held.Id);

            // Unmeasured first: the runtime's tiering and this ledger's page cache, as in a server that has run a while.
            await Timing.SequentialAsync(
                Math.Max(10, options.Ops / 2),
                _ => services.Packets.GetTaskPacketAsync(reader, random.NextInt64(1, tasks + 1), false)
            );
            await Timing.SequentialAsync(
                Math.Max(10, options.Ops / 10),
                i =>
                    services.Evidence.RecordEvidenceAsync(
                        writer,
                        new EvidenceInput(held.Id, "log", $"warm {i}", "a few lines of output\n"),
                        services.Config.Lines
                    )
            );
            var note = string.Create(
                CultureInfo.InvariantCulture,
                $"{tasks:#,0} tasks, {bytes / 1048576.0:0} MiB, generated in {generated:0.0} s"
            );
            return new Subject(size, ledger, tasks, note, reader, claimer, writer, held.Id);
        }

        // Random ids over the whole history: cold pages count, as they would for a real ledger.
        public Task ReadAsync(Random random) =>
            ledger.Services.Packets.GetTaskPacketAsync(reader, random.NextInt64(1, tasks + 1), false);

        public Task ClaimAsync() => ledger.Services.Claims.ClaimAsync(claimer, newRun: true);

        public Task WriteAsync(int i) =>
            ledger.Services.Evidence.RecordEvidenceAsync(
                writer,
                new EvidenceInput(heldRun, "log", $"step {i}", "a few lines of output\n"),
                ledger.Services.Config.Lines
            );

        public void Dispose() => ledger.Dispose();
    }

    /// <summary><paramref name="count"/> calls on each subject, round-robin; each subject's median is recorded.</summary>
    private static async Task InterleavedAsync(
        List<Subject> subjects,
        int count,
        Func<Subject, int, Task> operation,
        Action<Subject, double> record
    )
    {
        var latencies = subjects.Select(_ => new List<double>(count)).ToList();
        for (var i = 0; i < count * subjects.Count; i++)
        {
            var k = i % subjects.Count;
            var start = Stopwatch.GetTimestamp();
            await operation(subjects[k], i / subjects.Count);
            latencies[k].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        for (var k = 0; k < subjects.Count; k++)
            record(subjects[k], new Timing.Sample(latencies[k], 1).MedianMs);
    }

    /// <summary>For each repetition: the largest median across sizes over the smallest.</summary>
    private static List<double> Spread(List<List<double>> bySize) =>
        Enumerable.Range(0, bySize[0].Count).Select(r => bySize.Max(s => s[r]) / bySize.Min(s => s[r])).ToList();

    private static string Label(int size) =>
        size >= 1_000_000 && size % 1_000_000 == 0 ? $"{size / 1_000_000}M"
        : size >= 1_000 && size % 1_000 == 0 ? $"{size / 1_000}k"
        : size.ToString(CultureInfo.InvariantCulture);
}
