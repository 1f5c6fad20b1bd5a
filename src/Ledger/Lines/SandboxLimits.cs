namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// What one validation command may use (README, "Limits of validation"), under <c>limits:</c> in a line of
/// <c>lines.yaml</c>. Sizes are MiB. Each key defaults safely on its own, so a line names only what it changes.
/// </summary>
public sealed record SandboxLimits
{
    /// <summary>Output kept as the command's blob; the rest is counted, not stored (head and tail stay inline).</summary>
    public int OutputMib { get; set; } = 16;

    /// <summary>Address space per process (RLIMIT_AS).</summary>
    public int MemoryMib { get; set; } = 4096;

    /// <summary>CPU seconds per process (RLIMIT_CPU): SIGXCPU at this, SIGKILL 5 s later.</summary>
    public int CpuSeconds { get; set; } = 1800;

    /// <summary>Processes and threads at once (RLIMIT_NPROC of the sandbox's unprivileged uid).</summary>
    public int Processes { get; set; } = 1024;

    /// <summary>Largest file a command may write (RLIMIT_FSIZE).</summary>
    public int FileMib { get; set; } = 1024;

    /// <summary>Size of each private tmpfs, <c>/tmp</c> and <c>/var/tmp</c>.</summary>
    public int TmpMib { get; set; } = 512;

    /// <summary>The checkout, HOME and TMPDIR together, on the host's disk (watched; the command is killed past it).</summary>
    public int DiskMib { get; set; } = 10240;

    public const long Mib = 1024 * 1024;

    /// <summary>Refuses values no line can have, naming the key.</summary>
    public IEnumerable<string> Problems(string line)
    {
        const int TiB = 1024 * 1024;
        foreach (
            var (key, value, max) in new (string, int, int)[]
            {
                ("output_mib", OutputMib, 1024),
                ("memory_mib", MemoryMib, TiB),
                ("cpu_seconds", CpuSeconds, 7 * 24 * 3600),
                ("processes", Processes, 1_000_000),
                ("file_mib", FileMib, TiB),
                ("tmp_mib", TmpMib, TiB),
                ("disk_mib", DiskMib, 64 * TiB),
            }
        )
        {
            if (value < 1 || value > max)
                yield return $"line {line}: limits.{key} must be between 1 and {max}, not {value}";
        }
    }

    /// <summary>A stable text of every limit, for the command cache's environment hash.</summary>
    public override string ToString() =>
        $"output={OutputMib} memory={MemoryMib} cpu={CpuSeconds} processes={Processes} file={FileMib} tmp={TmpMib} disk={DiskMib}";
}
