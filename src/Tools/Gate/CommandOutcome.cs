namespace FactoryMcp.Tools.Gate;

/// <summary>How one packet command ended, as the server observed it.</summary>
public sealed record CommandOutcome(
    string Command,
    int ExitCode,
    bool TimedOut,
    TimeSpan Duration,
    bool Sandboxed,
    string Excerpt,
    string? BlobSha,
    bool Cached
)
{
    public bool Passed => ExitCode == 0 && !TimedOut;

    /// <summary>Limits the command hit and output left out of its blob (also written at the top of the excerpt).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public string Line =>
        $"`{Command}` → exit {ExitCode}{(TimedOut ? " (timed out)" : "")} in {Duration.TotalSeconds:0.0}s{(Sandboxed ? "" : ", unsandboxed")}{(Cached ? ", cached" : "")}";
}
