using System.Text.Json;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;

namespace FactoryMcp.Ledger.Tasks;

/// <summary>
/// A task's effective settings: the packet's own values merged with its line's defaults at approval,
/// then frozen, so later edits to lines.yaml never change work already approved.
/// </summary>
public sealed record TaskSettings
{
    public required IReadOnlyList<string> Validation { get; init; }
    public required IReadOnlyList<string> EvidenceRequired { get; init; }
    public required IReadOnlyList<string> TestGlobs { get; init; }
    public required IReadOnlyList<string> Verifiers { get; init; }
    public required bool RequireReview { get; init; }
    public required bool NoOpReview { get; init; }
    public required double LeaseMinutes { get; init; }
    public required int MaxAttempts { get; init; }
    public required int MaxReworks { get; init; }
    public required int MaxRefusals { get; init; }
    public required int TimeoutSeconds { get; init; }
    public required bool Network { get; init; }
    public required IReadOnlyList<string> EnvPassthrough { get; init; }
    public required IReadOnlyList<string> NoOpCodes { get; init; }
    public required int KeepDays { get; init; }
    public required double VerificationTimeoutMinutes { get; init; }
    public required bool RequireSandbox { get; init; }
    public required bool AllowTestDeletion { get; init; }

    // Not `required`: tasks approved before limits existed read back with the defaults.
    public SandboxLimits Limits { get; init; } = new();
    public bool RequireLimits { get; init; }

    /// <summary>The path pattern of the JUnit XML files Validation writes (line <c>reports.junit</c>); null: no per-test comparison.</summary>
    public string? JunitReports { get; init; }

    /// <summary>The line's coverage thresholds (line <c>coverage</c>); null: coverage is not checked.</summary>
    public CoverageSettings? Coverage { get; init; }

    /// <summary>The line's benchmarks against base (line <c>benchmarks</c>).</summary>
    public IReadOnlyList<BenchmarkSettings> Benchmarks { get; init; } = [];

    public static readonly IReadOnlyList<string> BuiltInNoOpCodes =
    [
        "cannot_reproduce",
        "already_fixed",
        "contradicts_product",
        "missing_context",
        "needs_product_clarification",
    ];

    public static TaskSettings Merge(Packet packet, LineSettings line)
    {
        var fm = packet.FrontMatter;
        return new TaskSettings
        {
            Validation = packet.Validation.Concat(line.Validation).Distinct(StringComparer.Ordinal).ToList(),
            EvidenceRequired = packet.EvidenceRequired.Concat(line.Evidence).Distinct(StringComparer.Ordinal).ToList(),
            TestGlobs = line.TestGlobs,
            Verifiers = fm.Verifiers ?? line.Verifiers,
            RequireReview = line.RequireReview,
            NoOpReview = line.NoOpReview,
            LeaseMinutes = fm.LeaseMinutes ?? line.LeaseMinutes,
            MaxAttempts = fm.MaxAttempts ?? line.MaxAttempts,
            MaxReworks = line.MaxReworks,
            MaxRefusals = line.MaxRefusals,
            TimeoutSeconds = fm.TimeoutSeconds ?? line.TimeoutSeconds,
            Network = line.Network,
            EnvPassthrough = line.EnvPassthrough,
            NoOpCodes = BuiltInNoOpCodes.Concat(line.NoOpCodes).Distinct(StringComparer.Ordinal).ToList(),
            KeepDays = line.KeepDays,
            VerificationTimeoutMinutes = line.VerificationTimeoutMinutes,
            RequireSandbox = line.RequireSandbox,
            AllowTestDeletion = fm.AllowTestDeletion ?? line.AllowTestDeletion,
            Limits = line.Limits ?? new SandboxLimits(),
            RequireLimits = line.RequireLimits,
            JunitReports = line.Reports?.Junit?.Trim(),
            Coverage = line.Coverage is { } coverage ? coverage with { Report = coverage.Report?.Trim() } : null,
            Benchmarks = line.Benchmarks,
        };
    }

    /// <summary>Packet overrides that weaken a gate against the line's defaults; each needs a human's approval.</summary>
    public static IReadOnlyList<string> Weakenings(Packet packet, LineSettings line)
    {
        var fm = packet.FrontMatter;
        var list = new List<string>();
        if (fm.Verifiers is { } verifiers && line.Verifiers.Except(verifiers).Any())
            list.Add(
                $"verifiers: packet drops {string.Join(", ", line.Verifiers.Except(verifiers))} (line: {Show(line.Verifiers)}, packet: {Show(verifiers)})"
            );
        if (fm.MaxAttempts is { } attempts && attempts > line.MaxAttempts)
            list.Add($"max_attempts: packet {attempts}, line {line.MaxAttempts}");
        if (fm.LeaseMinutes is { } lease && lease > line.LeaseMinutes)
            list.Add($"lease_minutes: packet {lease}, line {line.LeaseMinutes}");
        if (fm.TimeoutSeconds is { } timeout && timeout > line.TimeoutSeconds)
            list.Add($"timeout_seconds: packet {timeout}, line {line.TimeoutSeconds}");
        if (fm.AllowTestDeletion is true && !line.AllowTestDeletion)
            list.Add("allow_test_deletion: packet true, line false");
        return list;
    }

    /// <summary>Evidence the agent still owes: required kinds minus those present and those the server satisfies.</summary>
    public IReadOnlyList<string> MissingEvidence(IEnumerable<string> present)
    {
        var have = new HashSet<string>(present, StringComparer.Ordinal);
        return EvidenceRequired.Where(k => !have.Contains(k) && !EvidenceKinds.ServerSatisfied.Contains(k)).ToList();
    }

    private static string Show(IReadOnlyList<string> list) => list.Count == 0 ? "none" : string.Join(", ", list);

    public string ToJson() => JsonSerializer.Serialize(this, LedgerJson.Default.TaskSettings);

    /// <summary>
    /// The settings frozen as <paramref name="json"/>. Every write on a run reads its task's settings, so the parsed
    /// settings of recent texts are kept (settings are immutable, so one instance is shared); at most
    /// <see cref="ParsedKept"/> texts, then the cache starts again.
    /// </summary>
    public static TaskSettings FromJson(string json)
    {
        if (Parsed.TryGetValue(json, out var settings))
            return settings;
        settings = JsonSerializer.Deserialize(json, LedgerJson.Default.TaskSettings)!;
        if (Parsed.Count >= ParsedKept)
            Parsed.Clear();
        Parsed[json] = settings;
        return settings;
    }

    internal const int ParsedKept = 256;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskSettings> Parsed = new(
        StringComparer.Ordinal
    );
}
