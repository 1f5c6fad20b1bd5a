using System.Diagnostics;

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
        var info = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {await stderr}");
    }
}
