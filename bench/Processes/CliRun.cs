using System.Diagnostics;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Bench.Processes;

/// <summary>
/// A CLI command run to its exit through the product's <see cref="ProcessRunner"/> (as everything the benchmark
/// runs to completion), timed from spawn (start-up included) to exit, its output read to the end.
/// </summary>
internal static class CliRun
{
    public static async Task<double> TimeAsync(ServerCommand command)
    {
        var clock = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec(command.FileName, [.. command.Arguments])
            {
                WorkingDirectory = command.WorkingDirectory,
                EnvironmentOverrides = command.Environment,
                Timeout = TimeSpan.FromSeconds(60),
            }
        );
        var ms = clock.Elapsed.TotalMilliseconds;
        return result.Succeeded
            ? ms
            : throw new InvalidOperationException($"{command} exited with {result.ExitCode}:\n{result.Output}");
    }
}
