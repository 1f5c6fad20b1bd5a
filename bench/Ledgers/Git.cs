using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Bench.Ledgers;

/// <summary>Just enough git to make the repositories the benchmark's tasks are about.</summary>
internal static class Git
{
    public static async Task InitAsync(string path, IReadOnlyDictionary<string, string> files)
    {
        Directory.CreateDirectory(path);
        await RunAsync(path, "init", "--quiet", "-b", "main");
        foreach (var (relative, content) in files)
        {
            var full = Path.Combine(path, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }
        await RunAsync(path, "add", "-A");
        await RunAsync(
            path,
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@factory.local",
            "commit",
            "--quiet",
            "-m",
            "initial"
        );
    }

    private static async Task RunAsync(string directory, params string[] args)
    {
        var result = await ProcessRunner.RunAsync(new ProcessSpec("git", args) { WorkingDirectory = directory });
        if (!result.Succeeded)
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {result.StandardError}");
    }
}
