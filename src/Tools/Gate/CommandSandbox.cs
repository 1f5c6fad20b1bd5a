using FactoryMcp.Ledger.Lines;
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
        string outputFile,
        SandboxLimits limits
    )
    {
        var spec = new ProcessSpec("/bin/sh", ["-c", command])
        {
            WorkingDirectory = checkout,
            Environment = environment,
            Timeout = timeout,
            OutputFile = outputFile,
            OutputFileLimit = limits.OutputMib * SandboxLimits.Mib,
            NewProcessGroup = true,
            CaptureBytes = 64 * 1024,
        };
        if (!sandbox)
        {
            List<string> argv = [.. Limited(limits, processes: false), "/bin/sh", "-c", command];
            return spec with { FileName = argv[0], Arguments = argv[1..] };
        }

        // As root, no user namespace: one would map the command's uid to root outside, which owns /etc/shadow.
        // The command drops to nobody instead (setpriv, after bubblewrap made its mounts), losing every capability.
        var dropRoot = SandboxHost.DropsRoot;
        var args = new List<string> { "--die-with-parent", "--new-session" };
        if (dropRoot)
        {
            args.AddRange(["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]);
            if (!network)
                args.Add("--unshare-net");
        }
        else
        {
            args.AddRange(["--unshare-all", "--unshare-user-try"]);
            if (network)
                args.Add("--share-net");
        }
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
        var tmpfsBytes = (limits.TmpMib * SandboxLimits.Mib).ToString(
            System.Globalization.CultureInfo.InvariantCulture
        );
        args.AddRange(["--proc", "/proc", "--dev", "/dev"]);
        foreach (var folder in new[] { "/tmp", "/var/tmp" })
            args.AddRange(["--perms", "1777", "--size", tmpfsBytes, "--tmpfs", folder]);
        // bubblewrap makes missing mount points private (0700, root's): the uid below must be able to walk to its folders.
        foreach (var folder in MountPointParents([checkout, home, tmp]))
            args.AddRange(["--perms", "0755", "--dir", folder]);
        args.AddRange(["--bind", checkout, checkout, "--bind", home, home, "--bind", tmp, tmp, "--chdir", checkout]);
        args.Add("--clearenv");
        foreach (var (key, value) in environment)
            args.AddRange(["--setenv", key, value]);
        args.Add("--");
        if (dropRoot)
        {
            var uid = SandboxHost.UnprivilegedUid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            args.AddRange([
                "setpriv",
                "--reuid=" + uid,
                "--regid=" + uid,
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]);
        }
        args.AddRange([.. Limited(limits, processes: !SandboxHost.IsRoot || dropRoot), "/bin/sh", "-c", command]);
        return spec with { FileName = "bwrap", Arguments = args };
    }

    /// <summary>Folders above the bound ones that exist only inside the sandbox (never a system folder or a tmpfs root).</summary>
    private static IEnumerable<string> MountPointParents(IEnumerable<string> folders)
    {
        string[] mounted =
        [
            .. SystemFolders,
            "/tmp",
            "/var/tmp",
            "/proc",
            "/dev",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
        ];
        var parents = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            for (
                var parent = Path.GetDirectoryName(folder);
                parent is { Length: > 1 };
                parent = Path.GetDirectoryName(parent)
            )
            {
                if (
                    !mounted.Any(m => parent == m || parent.StartsWith(m + "/", StringComparison.Ordinal))
                    || parent.StartsWith("/tmp/", StringComparison.Ordinal)
                    || parent.StartsWith("/var/tmp/", StringComparison.Ordinal)
                )
                    parents.Add(parent);
            }
        }
        // Sorted, so a folder comes before those inside it.
        return parents;
    }

    /// <summary>
    /// The prlimit prefix that sets the command's rlimits (nothing when prlimit is missing: the evidence says so).
    /// The process limit only where it is the sandbox's own count: outside one, RLIMIT_NPROC counts every process
    /// of the server's user, and root ignores it.
    /// </summary>
    private static List<string> Limited(SandboxLimits limits, bool processes)
    {
        if (!SandboxHost.Rlimits)
            return [];
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var list = new List<string>
        {
            "prlimit",
            "--core=0",
            $"--as={(limits.MemoryMib * SandboxLimits.Mib).ToString(culture)}",
            // SIGXCPU at the limit (exit 152), SIGKILL 5 s later for a command that ignores it.
            $"--cpu={limits.CpuSeconds.ToString(culture)}:{(limits.CpuSeconds + 5).ToString(culture)}",
            $"--fsize={(limits.FileMib * SandboxLimits.Mib).ToString(culture)}",
        };
        if (processes)
            list.Add($"--nproc={limits.Processes.ToString(culture)}");
        list.Add("--");
        return list;
    }
}
