namespace FactoryMcp.Ledger.Evidence;

/// <summary>What record_evidence returns.</summary>
public sealed record EvidenceReceipt(
    long EvidenceId,
    long RunId,
    string Kind,
    string? BlobSha,
    IReadOnlyList<string> StillRequired,
    string LeaseExpiresAt
);
