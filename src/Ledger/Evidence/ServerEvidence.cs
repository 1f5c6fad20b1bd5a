namespace FactoryMcp.Ledger.Evidence;

/// <summary>Evidence the server observed itself: a validation's output, the diff, a publish, an agent session's log.</summary>
public sealed record ServerEvidence(
    string Kind,
    string Summary,
    string? Content,
    string? BlobSha = null,
    long? BlobBytes = null,
    string Stage = "verify"
);
