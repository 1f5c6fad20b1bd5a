namespace FactoryMcp.Ledger.Evidence;

/// <summary>One piece of evidence as an agent sends it. <c>File</c> is a path inside the run's workspace.</summary>
public sealed record EvidenceInput(
    long RunId,
    string Kind,
    string Summary,
    string? Content = null,
    string? File = null,
    string? Stage = null
);
