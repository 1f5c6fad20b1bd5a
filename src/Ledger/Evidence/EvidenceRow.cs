namespace FactoryMcp.Ledger.Evidence;

public sealed record EvidenceRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required string Kind { get; init; }
    public required string Origin { get; init; }
    public string? Stage { get; init; }
    public required string Summary { get; init; }
    public string? Content { get; init; }
    public string? BlobSha { get; init; }
    public long? BlobBytes { get; init; }
    public string? FileName { get; init; }
    public required string CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal const string Select = """
        SELECT id AS Id, run_id AS RunId, kind AS Kind, origin AS Origin, stage AS Stage, summary AS Summary, content AS Content,
               blob_sha AS BlobSha, blob_bytes AS BlobBytes, file_name AS FileName, created_by AS CreatedBy, created_at AS CreatedAt
        FROM evidence
        """;
}

/// <summary>Origins: a claim by the agent, an observation by the server, or a verifier's finding.</summary>
public static class Origins
{
    public const string Agent = "agent";
    public const string Server = "server";
    public const string Verifier = "verifier";
}
