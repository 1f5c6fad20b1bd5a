using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// Names the limit a failed command hit, for its evidence: from how it ended (SIGXCPU, SIGXFSZ, SIGKILL, the disk
/// watch) and from what the failing program said (ENOSPC, ENOMEM, EAGAIN on fork). An rlimit surfaces as an error in
/// the program rather than as a signal in most cases, so the words are the only trace; they are marked "likely".
/// </summary>
internal static class LimitBreach
{
    private const int SigKill = 128 + 9,
        SigXcpu = 128 + 24,
        SigXfsz = 128 + 25;

    public static List<string> Explain(ProcessResult result, SandboxLimits limits, long? diskExceededAt)
    {
        var notes = new List<string>();
        if (result.OutputFileTruncated)
            notes.Add(
                $"output truncated: the command printed {result.OutputBytes} bytes; the blob keeps the first {limits.OutputMib} MiB (limits.output_mib), the excerpt its head and tail"
            );
        if (result.Succeeded)
            return notes;
        var output = result.Output;
        if (diskExceededAt is { } used)
            notes.Add(
                $"disk limit: killed when the checkout, HOME and TMPDIR reached {used / SandboxLimits.Mib} MiB (limits.disk_mib = {limits.DiskMib})"
            );
        else if (result.ExitCode == SigXcpu || output.Contains("CPU time limit exceeded", StringComparison.Ordinal))
            notes.Add($"CPU limit: a process used {limits.CpuSeconds} s of CPU (limits.cpu_seconds), SIGXCPU");
        else if (result.ExitCode == SigKill && !result.TimedOut)
            notes.Add(
                $"killed by SIGKILL: a process ignored SIGXCPU past limits.cpu_seconds = {limits.CpuSeconds} s (or the kernel's OOM killer)"
            );
        if (result.ExitCode == SigXfsz || output.Contains("File size limit exceeded", StringComparison.Ordinal))
            notes.Add($"file size limit: a file reached {limits.FileMib} MiB (limits.file_mib), SIGXFSZ");
        if (output.Contains("No space left on device", StringComparison.Ordinal))
            notes.Add(
                $"space limit, likely: \"No space left on device\" (/tmp and /var/tmp hold {limits.TmpMib} MiB each, limits.tmp_mib)"
            );
        if (MentionsAny(output, "Cannot fork", "fork: Resource temporarily unavailable", "fork failed", "can't fork"))
            notes.Add($"process limit, likely: fork failed (limits.processes = {limits.Processes})");
        if (
            MentionsAny(
                output,
                "Cannot allocate memory",
                "MemoryError",
                "out of memory",
                "Out of memory",
                "bad_alloc",
                "OutOfMemoryException",
                "memory exhausted"
            )
        )
            notes.Add(
                $"memory limit, likely: an allocation failed (limits.memory_mib = {limits.MemoryMib} MiB of address space per process)"
            );
        return notes;
    }

    private static bool MentionsAny(string text, params string[] phrases) =>
        phrases.Any(p => text.Contains(p, StringComparison.Ordinal));
}
