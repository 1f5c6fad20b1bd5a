using FactoryMcp.Ledger.Evidence;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// The product lines of <c>lines.yaml</c> (a map of line name to <see cref="LineSettings"/>). Without the
/// file every line name is accepted with the defaults; with it, a packet must name a line it defines
/// (or the built-in <c>default</c>).
/// </summary>
public sealed class LineCatalog
{
    public const string DefaultLine = "default";

    /// <summary>
    /// The built-in line of spec jobs: a signal dispatched to an agent or pool becomes a task here, whose
    /// answer is a proposed packet for another line (README, "Spec jobs"). It exists without lines.yaml;
    /// lines.yaml may tune it (route, lease, attempts, no-op codes) but never give it commands.
    /// </summary>
    public const string SpecLine = "spec";

    /// <summary>The line CI-failure signals are drafted on when lines.yaml defines it (README, "CI-failure signals").</summary>
    public const string CiFailureLine = "ci-failure";

    /// <summary>NO_OP codes every spec job may use besides the built-in ones.</summary>
    public static readonly IReadOnlyList<string> SpecNoOpCodes = ["duplicate", "not_actionable"];

    /// <summary>The spec line's settings when lines.yaml does not define it.</summary>
    public static LineSettings SpecDefaults { get; } = new() { RequireReview = false, NoOpCodes = [.. SpecNoOpCodes] };

    private readonly Dictionary<string, LineSettings> lines;

    private LineCatalog(Dictionary<string, LineSettings> lines, bool configured)
    {
        this.lines = lines;
        Configured = configured;
    }

    /// <summary>Whether a <c>lines.yaml</c> exists; if not, any line name is accepted.</summary>
    public bool Configured { get; }

    public IReadOnlyDictionary<string, LineSettings> Lines => lines;

    public static LineCatalog Empty { get; } =
        new(new Dictionary<string, LineSettings>(StringComparer.Ordinal), configured: false);

    public static LineCatalog Load(string path)
    {
        if (!File.Exists(path))
            return Empty;
        return Parse(File.ReadAllText(path), path);
    }

    public static LineCatalog Parse(string yaml, string origin = "lines.yaml")
    {
        Dictionary<string, LineSettings>? parsed;
        try
        {
            parsed = Deserializer.Deserialize<Dictionary<string, LineSettings>?>(yaml);
        }
        catch (YamlException e)
        {
            throw new LedgerException(
                $"{origin} is not valid: {Describe(e)}. Every key of a line is listed in the README under 'Product lines'."
            );
        }
        var map = new Dictionary<string, LineSettings>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, settings) in parsed ?? [])
        {
            if (!IsValidName(name))
                problems.Add($"line name '{name}' must be lower-case letters, digits, '-' or '_'");
            var line = settings ?? new LineSettings();
            problems.AddRange(line.Problems(name));
            if (name == SpecLine)
            {
                problems.AddRange(line.SpecProblems());
                line = line with
                {
                    RequireReview = false,
                    NoOpCodes = [.. SpecNoOpCodes.Union(line.NoOpCodes, StringComparer.Ordinal)],
                };
            }
            map[name] = line;
        }
        if (problems.Count > 0)
            throw LedgerException.Many($"{origin} has problems; nothing was loaded:", problems);
        return new LineCatalog(map, configured: true);
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 40 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    /// <summary>The settings for a line, or null when <c>lines.yaml</c> exists and does not define it.</summary>
    public LineSettings? Find(string name)
    {
        if (lines.TryGetValue(name, out var settings))
            return settings;
        if (name == SpecLine)
            return SpecDefaults;
        if (!Configured || name == DefaultLine)
            return new LineSettings();
        return null;
    }

    public LineSettings Get(string name) =>
        Find(name)
        ?? throw new LedgerException(
            $"Line '{name}' is not defined in lines.yaml. Defined lines: {string.Join(", ", lines.Keys.Order())}."
        );

    /// <summary>Evidence kinds a packet of this line may name: the built-in ones plus those the line declares.</summary>
    public IReadOnlySet<string> EvidenceKindsFor(string name)
    {
        var kinds = new HashSet<string>(EvidenceKinds.BuiltIn, StringComparer.Ordinal);
        if (Find(name) is { } line)
            kinds.UnionWith(line.Evidence);
        return kinds;
    }

    public string ToYaml() => Serializer.Serialize(lines);

    internal static readonly IDeserializer Deserializer = new StaticDeserializerBuilder(new Settings.YamlContext())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    internal static readonly ISerializer Serializer = new StaticSerializerBuilder(new Settings.YamlContext())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitDefaults)
        .Build();

    internal static string Describe(YamlException e)
    {
        var inner = e.InnerException?.Message ?? e.Message;
        return $"line {e.Start.Line}, column {e.Start.Column}: {inner}";
    }
}
