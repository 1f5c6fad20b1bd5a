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
