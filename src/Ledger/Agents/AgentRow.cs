namespace FactoryMcp.Ledger.Agents;

public sealed record AgentRow
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public required string Role { get; init; }
    public string? VerifierRole { get; init; }
    public string? TokenHash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public DateTimeOffset? LastSeenAt { get; init; }
}
