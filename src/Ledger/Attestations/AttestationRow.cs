namespace FactoryMcp.Ledger.Attestations;

/// <summary>One accepted run's signed attestation: the DSSE envelope as JSON, and the key that signed it.</summary>
public sealed record AttestationRow
{
    public required long RunId { get; init; }
    public required string HeadSha { get; init; }
    public required string KeyId { get; init; }
    public required string Envelope { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}
