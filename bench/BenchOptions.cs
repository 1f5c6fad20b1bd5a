using System.Globalization;

namespace FactoryMcp.Bench;

/// <summary>
/// Options every subcommand takes. Defaults make `all` finish in a few minutes on a 2-core machine;
/// `--tiny` shrinks everything so the test suite can run the whole benchmark once (figures then mean nothing).
/// </summary>
internal sealed record BenchOptions(TimeSpan Duration, string Directory)
{
    /// <summary>Repetitions of each figure; the table shows their median, min and max.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Sequential operations per repetition of a latency or rate figure.</summary>
    public int Ops { get; init; } = 1000;

    /// <summary>Spawns of each server for spawn → initialize (alternating factory and bare).</summary>
    public int Spawns { get; init; } = 10;

    /// <summary>Evidence rows of the ledgers the scale figures read and claim from.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [1_000, 100_000, 1_000_000];

    /// <summary>Concurrent HTTP agents, and how many tasks each claims per repetition.</summary>
    public int Agents { get; init; } = 32;
    public int TasksPerAgent { get; init; } = 2;
    public int EvidencePerClaim { get; init; } = 3;

    /// <summary>A published `factory` to measure; by default the benchmark publishes one (ReadyToRun).</summary>
    public string? Factory { get; init; }

    /// <summary>A published bare SDK server; by default the benchmark builds and publishes its own.</summary>
    public string? Bare { get; init; }

    /// <summary>
    /// Whether startup also measures the fast-startup flavour (self-contained, composite ReadyToRun) of
    /// both servers. Off in tiny runs: publishing it takes minutes.
    /// </summary>
    public bool Composite { get; init; } = true;

    /// <summary>Published fast-startup builds to measure instead of publishing them.</summary>
    public string? FactoryComposite { get; init; }
    public string? BareComposite { get; init; }

    /// <summary>
    /// Whether startup also measures the Native AOT flavour of both servers (and `factory board` with it). Off in
    /// tiny runs: publishing it takes many minutes of CPU.
    /// </summary>
    public bool Aot { get; init; } = true;

    /// <summary>Published Native AOT builds to measure instead of publishing them.</summary>
    public string? FactoryAot { get; init; }
    public string? BareAot { get; init; }

    /// <summary>
    /// The full Native AOT build (native-aot.pubxml: HTTP serving included) to serve the HTTP figures with; without
    /// it they are measured on the ReadyToRun build (`all` publishes it unless --aot no).
    /// </summary>
    public string? FactoryFullAot { get; init; }

    public bool Tiny { get; init; }

    /// <summary>
    /// A PostgreSQL server (postgresql://user@host:port/database, a database the user may connect to and
    /// create others from): `dispatch` then measures every figure on SQLite and on PostgreSQL, each on a fresh
    /// database it creates there and drops afterwards.
    /// </summary>
    public string? Postgres { get; init; }

    /// <summary>The rest of the command line, for subcommands with options of their own (compare).</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    public const string Usage =
        "--runs N, --ops N, --spawns N, --sizes 1000,100000,1000000, --agents N, --tasks-per-agent N, --evidence-per-claim N, --seconds N, --dir PATH, --factory PATH, --bare PATH, --composite yes|no, --factory-composite PATH, --bare-composite PATH, --aot yes|no, --factory-aot PATH, --bare-aot PATH, --factory-full-aot PATH, --postgres postgresql://USER@HOST:PORT/DB, --tiny";

    public static BenchOptions Parse(string[] args, IReadOnlySet<string>? extraOptions = null)
    {
        var o = new BenchOptions(TimeSpan.FromSeconds(3), Path.Combine(Path.GetTempPath(), "factory-bench"));
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        // --tiny first, so explicit options after it still win.
        if (args.Contains("--tiny"))
            o = o with
            {
                Tiny = true,
                Composite = false,
                Aot = false,
                Runs = 2,
                Ops = 20,
                Spawns = 2,
                Sizes = [100, 1_000],
                Agents = 4,
                TasksPerAgent = 1,
                EvidencePerClaim = 1,
                Duration = TimeSpan.FromSeconds(0.3),
            };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--tiny")
                continue;
            if (i + 1 >= args.Length)
                throw new ArgumentException($"Unknown or incomplete option '{name}'. Options: {Usage}.");
            var value = args[++i];
            o = name switch
            {
                "--seconds" => o with { Duration = TimeSpan.FromSeconds(Positive(name, value)) },
                "--dir" => o with { Directory = Path.GetFullPath(value) },
                "--runs" => o with { Runs = (int)Positive(name, value) },
                "--ops" => o with { Ops = (int)Positive(name, value) },
                "--spawns" => o with { Spawns = (int)Positive(name, value) },
                "--sizes" => o with
                {
                    Sizes = value
                        .Split(',', StringSplitOptions.RemoveEmptyEntries)
                        .Select(s => (int)Positive(name, s.Replace("_", "")))
                        .ToList(),
                },
                "--agents" => o with { Agents = (int)Positive(name, value) },
                "--tasks-per-agent" => o with { TasksPerAgent = (int)Positive(name, value) },
                "--evidence-per-claim" => o with { EvidencePerClaim = (int)Positive(name, value) },
                "--factory" => o with { Factory = Path.GetFullPath(value) },
                "--bare" => o with { Bare = Path.GetFullPath(value) },
                "--composite" => o with { Composite = YesNo(name, value) },
                "--aot" => o with { Aot = YesNo(name, value) },
                "--factory-aot" => o with { FactoryAot = Path.GetFullPath(value) },
                "--bare-aot" => o with { BareAot = Path.GetFullPath(value) },
                "--factory-full-aot" => o with { FactoryFullAot = Path.GetFullPath(value) },
                "--factory-composite" => o with { FactoryComposite = Path.GetFullPath(value) },
                "--bare-composite" => o with { BareComposite = Path.GetFullPath(value) },
                "--postgres" => o with
                {
                    Postgres = FactoryMcp.Ledger.Storage.PostgreSql.PostgresLocation.Parse(value).Url,
                },
                _ when extraOptions?.Contains(name) == true => Add(o, extra, name, value),
                _ => throw new ArgumentException(
                    $"Unknown option '{name}'. Options: {Usage}{(extraOptions is null ? "" : ", " + string.Join(", ", extraOptions))}."
                ),
            };
        }
        System.IO.Directory.CreateDirectory(o.Directory);
        return o with { Extra = extra };
    }

    private static BenchOptions Add(BenchOptions o, Dictionary<string, string> extra, string name, string value)
    {
        extra[name] = value;
        return o;
    }

    private static bool YesNo(string name, string value) =>
        value is "yes" ? true
        : value is "no" ? false
        : throw new ArgumentException($"{name} takes yes or no, not '{value}'.");

    private static double Positive(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"{name} needs a positive number, not '{value}'.");
}
