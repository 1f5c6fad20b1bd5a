using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A small C program a test builds with the system's C compiler and runs, for what only native code can show
/// (page faults of a process with one thread). Needs <c>cc</c>: CI installs gcc, elsewhere the test skips.
/// </summary>
public static class CProbe
{
    /// <summary>Builds <paramref name="sources"/> into <paramref name="binary"/>.</summary>
    public static async Task BuildAsync(string binary, string optimization, params string[] sources)
    {
        ExternalClients.RequireOnPath("cc", "apt-get install gcc");
        var compile = await ProcessRunner.RunAsync(
            new ProcessSpec("cc", [optimization, "-Wall", "-Werror", "-o", binary, .. sources])
            {
                Timeout = TimeSpan.FromSeconds(60),
            }
        );
        Assert.True(compile.ExitCode == 0, compile.Output);
    }

    /// <summary>Runs a built probe and reads the one number it prints.</summary>
    public static async Task<long> RunAsync(string binary, params string[] args)
    {
        var run = await ProcessRunner.RunAsync(new ProcessSpec(binary, args) { Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(run.ExitCode == 0, run.Output);
        return long.Parse(run.StandardOutput.Trim());
    }
}
