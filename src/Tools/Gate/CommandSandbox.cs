using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// Runs a packet command as <c>/bin/sh -c LINE</c> in the checkout's root, in its own process group,
/// under bubblewrap when it is available: no network unless the line allows it, the checkout and a
/// private HOME/TMPDIR read-write, system folders read-only, everything else (the ledger, blobs,
/// tokens, the user's home) absent. A PID namespace means no detached grandchild outlives the command.
/// </summary>
public static class CommandSandbox
{
    private static readonly Lazy<bool> Probe = new(() =>
    {
        try
        {
            var result = ProcessRunner
                .RunAsync(
                    new ProcessSpec(
                        "bwrap",
                        ["--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--", "/bin/true"]
                    )
                    {
                        Timeout = TimeSpan.FromSeconds(20),
                    }
                )
                .GetAwaiter()
                .GetResult();
            return result.ExitCode == 0;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    });

    /// <summary>Whether bubblewrap works on this host (installed, and user namespaces allowed). FACTORY_SANDBOX=off disables it.</summary>
    public static bool Available =>
        !string.Equals(Environment.GetEnvironmentVariable("FACTORY_SANDBOX"), "off", StringComparison.OrdinalIgnoreCase)
        && Probe.Value;

    private static readonly string[] SystemFolders = ["/usr", "/etc", "/opt", "/run/systemd/resolve"];

    public static ProcessSpec Build(
        string command,
        string checkout,
        string home,
        string tmp,
        IReadOnlyDictionary<string, string> environment,
        bool sandbox,
        bool network,
        TimeSpan timeout,
        string outputFile
    )
    {
        if (!sandbox)
        {
            return new ProcessSpec("/bin/sh", ["-c", command])
            {
                WorkingDirectory = checkout,
                Environment = environment,
                Timeout = timeout,
                OutputFile = outputFile,
                NewProcessGroup = true,
                CaptureBytes = 64 * 1024,
            };
        }
        var args = new List<string> { "--die-with-parent", "--new-session", "--unshare-all", "--unshare-user-try" };
        if (network)
            args.Add("--share-net");
        foreach (var folder in SystemFolders.Where(Directory.Exists))
            args.AddRange(["--ro-bind", folder, folder]);
        foreach (var link in new[] { "bin", "sbin", "lib", "lib32", "lib64", "libx32" })
        {
            var path = "/" + link;
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target)
                args.AddRange(["--symlink", target, path]);
            else if (Directory.Exists(path))
                args.AddRange(["--ro-bind", path, path]);
        }
        args.AddRange(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]);
        args.AddRange([
            "--bind",
            checkout,
            checkout,
            "--bind",
            home,
            home,
            "--bind",
            tmp,
            tmp,
            "--chdir",
            checkout,
            "--clearenv",
        ]);
        foreach (var (key, value) in environment)
            args.AddRange(["--setenv", key, value]);
        args.AddRange(["--", "/bin/sh", "-c", command]);
        return new ProcessSpec("bwrap", args)
        {
            WorkingDirectory = checkout,
            Environment = environment,
            Timeout = timeout,
            OutputFile = outputFile,
            NewProcessGroup = true,
            CaptureBytes = 64 * 1024,
        };
    }
}
