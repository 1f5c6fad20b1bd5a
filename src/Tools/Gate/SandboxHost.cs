using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// What this host can enforce for a validation command (README, "Limits of validation"): rlimits need util-linux's
/// <c>prlimit</c>; a server running as root drops the command to <see cref="UnprivilegedUid"/> with util-linux's
/// <c>setpriv</c> inside the sandbox; the process limit needs that uid (root is exempt from RLIMIT_NPROC) and the
/// private <c>/tmp</c> needs the sandbox. The disk limit is the server's own watch and always holds.
/// </summary>
public static class SandboxHost
{
    /// <summary>nobody: what the code under validation runs as when the server runs as root.</summary>
    public const int UnprivilegedUid = 65534;

    private static readonly Lazy<bool> PrlimitProbe = new(() => Works("prlimit", ["--core=0", "--", "/bin/true"]));
    private static readonly Lazy<bool> SetprivProbe = new(() =>
        Works("setpriv", ["--reuid=" + UnprivilegedUid, "--regid=" + UnprivilegedUid, "--clear-groups", "/bin/true"])
    );

    public static bool IsRoot => Environment.IsPrivilegedProcess;

    /// <summary>Whether rlimits can be set (util-linux prlimit on PATH).</summary>
    public static bool Rlimits => PrlimitProbe.Value;

    /// <summary>Whether a root server can run the command as <see cref="UnprivilegedUid"/> (util-linux setpriv).</summary>
    public static bool DropsRoot => IsRoot && SetprivProbe.Value;

    /// <summary>The limits (and protections) this host cannot give a command, each with the reason; empty when all hold.</summary>
    public static IReadOnlyList<string> Unenforced(bool sandboxed)
    {
        var missing = new List<string>();
        if (!Rlimits)
            missing.Add(
                "memory, cpu_seconds, file_mib and processes (util-linux `prlimit` is not on the server's PATH)"
            );
        if (!sandboxed)
        {
            missing.Add("tmp_mib (no sandbox, so no private size-capped /tmp)");
            missing.Add("processes (no sandbox: the command would share the server user's process count)");
            missing.Add(
                IsRoot
                    ? "an unprivileged uid (no sandbox: the command runs as root and could raise its own limits)"
                    : "an unprivileged uid (no sandbox: the command runs as the server's own user)"
            );
        }
        else if (IsRoot && !DropsRoot)
        {
            missing.Add(
                "an unprivileged uid (util-linux `setpriv` is missing: the command runs as root in the sandbox and could raise its own limits)"
            );
            missing.Add("processes (root is exempt from RLIMIT_NPROC)");
        }
        return missing;
    }

    /// <summary>One line for the evidence: every limit in force, and what this host could not enforce.</summary>
    public static string Describe(SandboxLimits limits, bool sandboxed)
    {
        var who =
            !sandboxed ? "the server's user"
            : DropsRoot ? $"uid {UnprivilegedUid}"
            : IsRoot ? "root"
            : "the server's user in a user namespace";
        var text =
            $"Limits per command: memory {limits.MemoryMib} MiB of address space per process, CPU {limits.CpuSeconds} s per process, "
            + $"{limits.Processes} processes, files up to {limits.FileMib} MiB, /tmp and /var/tmp {limits.TmpMib} MiB each, "
            + $"checkout+HOME+TMPDIR {limits.DiskMib} MiB, output blob {limits.OutputMib} MiB; runs as {who}.";
        var missing = Unenforced(sandboxed);
        return missing.Count == 0 ? text : text + " Not enforced on this host: " + string.Join("; ", missing) + ".";
    }

    private static bool Works(string program, string[] arguments)
    {
        try
        {
            return ProcessRunner
                    .RunAsync(new ProcessSpec(program, arguments) { Timeout = TimeSpan.FromSeconds(20) })
                    .GetAwaiter()
                    .GetResult()
                    .ExitCode == 0;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
