using System.Diagnostics;

namespace FactoryMcp.Bench.Processes;

/// <summary>A CLI command run to its exit, timed from spawn (start-up included), its output read to the end.</summary>
internal static class CliRun
{
    public static async Task<double> TimeAsync(ServerCommand command)
    {
        var start = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = command.WorkingDirectory ?? "",
        };
        foreach (var argument in command.Arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in command.Environment)
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var ms = clock.Elapsed.TotalMilliseconds;
        await Task.WhenAll(output, errors);
        return process.ExitCode == 0
            ? ms
            : throw new InvalidOperationException(
                $"{command} exited with {process.ExitCode}:\n{await errors}\n{await output}"
            );
    }
}
