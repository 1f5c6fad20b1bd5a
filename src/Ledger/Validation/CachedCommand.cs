namespace FactoryMcp.Ledger.Validation;

/// <summary>One command's observed result, cached per (subject, command, environment).</summary>
public sealed record CachedCommand
{
    public required string Subject { get; init; }
    public required string Command { get; init; }
    public required string Environment { get; init; }
    public required long ExitCode { get; init; }
    public required long DurationMs { get; init; }
    public required bool Sandboxed { get; init; }
    public required string Output { get; init; }
    public string? BlobSha { get; init; }
}
