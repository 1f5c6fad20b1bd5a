namespace FactoryMcp.Ledger.Runs;

/// <summary>One piece of evidence as an agent sends it. <c>File</c> is a path inside the run's workspace.</summary>
public sealed record EvidenceInput(
    long RunId,
    string Kind,
    string Summary,
    string? Content = null,
    string? File = null,
    string? Stage = null
);

/// <summary>What record_evidence returns.</summary>
public sealed record EvidenceReceipt(
    long EvidenceId,
    long RunId,
    string Kind,
    string? BlobSha,
    IReadOnlyList<string> StillRequired,
    string LeaseExpiresAt
);

/// <summary>Stages of DESIGN section 1, in order.</summary>
public static class Stages
{
    public static readonly IReadOnlyList<string> All = ["scout", "build", "verify", "package", "review"];
}
