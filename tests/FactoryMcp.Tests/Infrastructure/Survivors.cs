using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>Whether a process started as `sleep MARKER` is still alive anywhere on the host.</summary>
public static class Survivors
{
    public static async Task<bool> SleepingAsync(string marker) =>
        (await ProcessRunner.RunAsync(new ProcessSpec("pgrep", ["-f", $"sleep {marker}"]))).ExitCode == 0;
}
