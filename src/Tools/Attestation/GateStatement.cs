using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Gate.Benchmarks;
using FactoryMcp.Tools.Gate.Coverage;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tools.Attestation;

/// <summary>
/// The in-toto Statement v1 an accepted PR_READY is attested with (README, "Attestations"): the head commit as its
/// subject, and a predicate of what the gate observed there.
/// </summary>
public static class GateStatement
{
    public const string StatementType = "https://in-toto.io/Statement/v1";

    /// <summary>A type identifier, not a document to fetch.</summary>
    public const string PredicateType = "urn:factorymcp:attestation:gate:v1";

    public static string FactoryVersion { get; } =
        typeof(GateStatement).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "unknown";

    public static byte[] Build(
        RunRow run,
        TaskRow task,
        string packetMarkdown,
        string head,
        GateFacts facts,
        DateTimeOffset acceptedAt
    )
    {
        var statement = new JsonObject
        {
            ["_type"] = StatementType,
            ["subject"] = new JsonArray(
                new JsonObject
                {
                    ["name"] = task.Repo,
                    ["digest"] = new JsonObject { ["gitCommit"] = head },
                }
            ),
            ["predicateType"] = PredicateType,
            ["predicate"] = new JsonObject
            {
                ["factory"] = new JsonObject { ["name"] = "FactoryMcp", ["version"] = FactoryVersion },
                ["run"] = new JsonObject
                {
                    ["id"] = run.Id,
                    ["task_id"] = task.Id,
                    ["line"] = task.Line,
                    ["agent"] = run.AgentName,
                },
                ["packet"] = new JsonObject
                {
                    ["version"] = run.PacketVersion,
                    ["digest"] = new JsonObject
                    {
                        ["sha256"] = Convert
                            .ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(packetMarkdown)))
                            .ToLowerInvariant(),
                    },
                },
                ["base"] = new JsonObject { ["gitCommit"] = run.BaseSha },
                ["head"] = new JsonObject { ["gitCommit"] = head },
                ["validation"] = new JsonArray([.. facts.Validation.Select(Command)]),
                ["reproduction"] = facts.Reproduction,
                ["tests"] = facts.JunitPattern is null
                    ? null
                    : new JsonObject
                    {
                        ["junit"] = facts.JunitPattern,
                        ["summary"] = facts.TestsSummary,
                        ["rows"] = JsonSerializer.SerializeToNode(
                            facts.Tests ?? [],
                            TestTable.Info<IReadOnlyList<TestRow>>()
                        ),
                    },
                ["coverage"] = facts.Coverage is { } coverage ? Coverage(coverage) : null,
                ["benchmarks"] = facts.Benchmarks is { } benchmarks
                    ? new JsonArray([.. benchmarks.Select(Benchmark)])
                    : null,
                ["sandbox"] = new JsonObject
                {
                    ["bubblewrap"] = facts.Sandboxed,
                    ["network"] = facts.Network,
                    ["timeout_seconds"] = facts.TimeoutSeconds,
                    ["limits"] = JsonSerializer.SerializeToNode(facts.Limits, Mcp.ToolsJson.Default.SandboxLimits),
                },
                ["accepted_at"] = Ledger.Storage.Iso.Text(acceptedAt),
            },
        };
        return Encoding.UTF8.GetBytes(statement.ToJsonString());
    }

    private static JsonNode Coverage(CoverageFigures c) =>
        new JsonObject
        {
            ["report"] = c.Settings.Report,
            ["min_line"] = c.Settings.MinLine,
            ["min_changed_lines"] = c.Settings.MinChangedLines,
            ["no_decrease"] = c.Settings.NoDecrease,
            ["head"] = Count(c.Head),
            ["base"] = c.Base is { } b ? Count(b) : null,
            ["changed_lines"] = Count(c.Changed),
            ["uncovered_changed_lines"] = new JsonArray([
                .. c.Uncovered.Select(u => (JsonNode)new JsonObject { ["file"] = u.File, ["lines"] = u.Lines }),
            ]),
        };

    private static JsonNode Count(LineCount count) =>
        new JsonObject
        {
            ["covered"] = count.Covered,
            ["coverable"] = count.Coverable,
            ["percent"] = count.Percent,
        };

    private static JsonNode Benchmark(BenchmarkResult r) =>
        new JsonObject
        {
            ["name"] = r.Name,
            ["command"] = r.Command,
            ["metric"] = r.Metric,
            ["direction"] = r.Direction,
            ["tolerance"] = r.Tolerance,
            ["base"] = Side(r.Base),
            ["head"] = Side(r.Head),
            ["change"] = r.Change is { } c && double.IsFinite(c) ? c : null,
            ["interval_half_width"] = r.HalfWidth is { } h && double.IsFinite(h) ? h : null,
            ["outcome"] = r.Outcome,
        };

    private static JsonNode? Side(BenchmarkSide? side) =>
        side is null
            ? null
            : new JsonObject
            {
                ["samples"] = new JsonArray([.. side.Samples.Select(v => (JsonNode)JsonValue.Create(v))]),
                ["median"] = double.IsFinite(side.Median) ? side.Median : null,
                ["mad"] = double.IsFinite(side.Mad) ? side.Mad : null,
            };

    private static JsonNode Command(CommandOutcome o) =>
        new JsonObject
        {
            ["command"] = o.Command,
            ["exit_code"] = o.ExitCode,
            ["timed_out"] = o.TimedOut,
            ["duration_ms"] = (long)o.Duration.TotalMilliseconds,
            ["sandboxed"] = o.Sandboxed,
            ["cached"] = o.Cached,
            ["output"] = o.BlobSha is { } blob ? new JsonObject { ["sha256"] = blob } : null,
        };
}
