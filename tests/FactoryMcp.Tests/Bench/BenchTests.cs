using System.Text.RegularExpressions;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Bench;

/// <summary>
/// The benchmark (bench/, `dotnet run -c Release --project bench -- all`) run once at tiny sizes, so it
/// cannot rot: every figure of DESIGN section 12 must be printed with a value. Figures are not judged
/// here; timing belongs to the benchmark, never to a test.
/// </summary>
public sealed partial class BenchTests
{
    private static readonly string[] Figures =
    [
        "spawn → initialize, factory serve (stdio, R2R)",
        "spawn → initialize, bare SDK server (R2R)",
        "spawn → initialize, factory / bare (R2R)",
        "resident memory idle, factory serve (stdio, R2R)",
        "tools/list reply, agent",
        "tools/list reply, verifier",
        "tools/list reply, human",
        "get_task_packet by id, SDK client over stdio",
        "get_task_packet by id, SDK client over stdio, rate",
        "get_task_packet by id, packet service only",
        "resident memory loaded, factory serve (stdio)",
        "record_evidence, sequential, synchronous=FULL",
        "record_evidence, SDK client over stdio",
        "record_evidence over stdio, floor",
        "record_evidence over stdio / its floor",
        "disk fsync rate (4 KiB write + fsync)",
        "claim, the claim's transaction",
        "claim, get_task_packet with workspace",
        "get_task_packet by id @ 100 evidence rows",
        "claim @ 1k evidence rows",
        "reads, slowest / fastest size (100 → 1k)",
        "claims, slowest / fastest size (100 → 1k)",
        "4 agents over HTTP, double claims",
        "4 agents over HTTP, lost claims",
        "4 agents over HTTP, failed calls",
        "4 agents over HTTP, record_evidence/s in total",
        "4 agents over HTTP, record_evidence per fsync",
        "resident memory loaded, factory serve --http",
        "validation, job overhead beyond the command",
    ];

    [Fact]
    public async Task All_AtTinySizes_PrintsEveryFigureWithAValue()
    {
        using var dir = new TempDirectory("bench");
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec(BenchPath(), ["all", "--tiny", "--factory", FactoryBinary.Path, "--dir", dir.Path])
            {
                WorkingDirectory = FactoryBinary.RepoRoot,
                EnvironmentOverrides = FactoryBinary.CleanEnvironment(),
                Timeout = TimeSpan.FromMinutes(15),
            }
        );

        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.StandardOutput.Split('\n');
        foreach (var figure in Figures)
        {
            var line = lines.FirstOrDefault(l => l.StartsWith(figure + " ", StringComparison.Ordinal));
            Assert.True(line is not null, $"The benchmark printed no '{figure}':\n{result.StandardOutput}");
            Assert.Matches(Row(), line![figure.Length..]);
        }
        Assert.Contains("DESIGN section 12 targets:", result.StandardOutput);
        // A smoke run must say its figures mean nothing.
        Assert.Contains("(tiny: a smoke run, the figures mean nothing)", result.StandardOutput);
    }

    private static readonly string[] FleetFigures =
    [
        "fleet, validation jobs/min, 1 worker",
        "fleet, validation jobs/min, 2 workers",
        "fleet, validation jobs/min, 3 workers",
        "fleet, jobs/min 2 workers / 1 worker",
        "fleet, jobs/min 3 workers / 1 worker",
        "fleet, worker CPU per job, 1 worker",
        "fleet, worker CPU per job, 3 workers",
        "fleet, claim through replica 1",
        "fleet, claim through replica 2",
        "fleet, killed worker's job waits",
        "fleet, validation jobs refused or undecided",
        "fleet, failed claims",
    ];

    /// <summary>
    /// `bench fleet` end to end at tiny sizes (its own PostgreSQL, two replicas, 1-3 workers, one SIGKILL): every
    /// figure line with values, the machine beside them, and no refused job or failed claim (a broken fleet, not
    /// a slow one). Needs PostgreSQL's server binaries, as the PostgreSQL tests do.
    /// </summary>
    [Fact]
    public async Task Fleet_AtTinySizes_PrintsEveryFigureWithAValue()
    {
        await PostgresCluster.RequireAsync(); // skips (outside CI) where PostgreSQL is not installed
        using var dir = new TempDirectory("bench-fleet");
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec(
                BenchPath(),
                ["fleet", "--tiny", "--runs", "1", "--factory", FactoryBinary.Path, "--dir", dir.Path]
            )
            {
                WorkingDirectory = FactoryBinary.RepoRoot,
                EnvironmentOverrides = FactoryBinary.CleanEnvironment(),
                Timeout = TimeSpan.FromMinutes(5),
            }
        );

        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.StandardOutput.Split('\n');
        foreach (var figure in FleetFigures)
        {
            var line = lines.FirstOrDefault(l => l.StartsWith(figure + " ", StringComparison.Ordinal));
            Assert.True(line is not null, $"The benchmark printed no '{figure}':\n{result.StandardOutput}");
            Assert.Matches(Row(), line![figure.Length..]);
        }
        Assert.Matches(@"fleet: \d+ cores, load average [0-9.]+ [0-9.]+ [0-9.]+ at the start", result.StandardOutput);
        Assert.Contains("(tiny: a smoke run, the figures mean nothing)", result.StandardOutput);
    }

    /// <summary>median, min and max: numbers, never the "-" of an empty figure.</summary>
    [GeneratedRegex(@"^\s+[0-9][0-9.,]*\s+[0-9][0-9.,]*\s+[0-9][0-9.,]*\s+\S")]
    private static partial Regex Row();

    private static string BenchPath()
    {
        // Built with the test project, in the same configuration folder (for example debug_linux-x64).
        var configuration = Path.GetFileName(AppContext.BaseDirectory.TrimEnd('/'));
        var path = Path.Combine(
            FactoryBinary.RepoRoot,
            "artifacts",
            "bin",
            "FactoryMcp.Bench",
            configuration,
            "factory-bench"
        );
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"{path} is missing: build the test project (it builds the benchmark) first."
            );
    }
}
