namespace FactoryMcp.Tools.Processes;

/// <summary>
/// What to run: a program with an argument list (never a shell string, except packet commands which
/// are passed to <c>/bin/sh -c</c> as one argument), its directory, and an environment.
/// </summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public string? WorkingDirectory { get; init; }

    /// <summary>When set, the child gets exactly this environment and nothing inherited.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Variables added to (or, with a null value, removed from) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string?>? EnvironmentOverrides { get; init; }

    public string? StandardInput { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Bytes of output kept in memory per stream (stdout, stderr, both interleaved): the first and the last
    /// half of this; the result's text says how many bytes were left out between them.
    /// </summary>
    public int CaptureBytes { get; init; } = 256 * 1024;

    /// <summary>When set, the whole interleaved output is also written to this file, byte for byte.</summary>
    public string? OutputFile { get; init; }

    /// <summary>
    /// At most this many bytes go to <see cref="OutputFile"/>; the rest is counted (<see cref="ProcessResult.OutputBytes"/>)
    /// and reported as <see cref="ProcessResult.OutputFileTruncated"/>.
    /// </summary>
    public long OutputFileLimit { get; init; } = long.MaxValue;

    /// <summary>
    /// When this fires the process (its whole group, when it leads one) is killed as on a timeout, but the run ends
    /// normally with <see cref="ProcessResult.Aborted"/> and exit 137: for a watchdog that stops a command over a limit.
    /// </summary>
    public CancellationToken Abort { get; init; }

    /// <summary>Start the child as the leader of a new process group (via setsid) and kill the whole group on timeout.</summary>
    public bool NewProcessGroup { get; init; }
}

/// <summary>
/// How a process ended. <c>Output</c> interleaves stdout and stderr as they arrived, capped head and tail;
/// <c>OutputBytes</c> counts every byte of it, kept or not.
/// </summary>
public sealed record ProcessResult(
    int ExitCode,
    string StandardOutput,
    string StandardError,
    string Output,
    bool TimedOut,
    bool Truncated,
    TimeSpan Duration,
    long OutputBytes
)
{
    /// <summary>Whether <see cref="ProcessSpec.OutputFile"/> stopped at <see cref="ProcessSpec.OutputFileLimit"/>.</summary>
    public bool OutputFileTruncated { get; init; }

    /// <summary>Whether <see cref="ProcessSpec.Abort"/> killed the process.</summary>
    public bool Aborted { get; init; }

    public bool Succeeded => ExitCode == 0 && !TimedOut;
}
