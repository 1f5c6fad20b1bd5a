namespace FactoryMcp.Ledger.Shipping;

/// <summary>An append-only record that a change reached users, tagged with the ledger's environment.</summary>
public sealed record ShippedEventRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required long TaskId { get; init; }
    public required string Sha { get; init; }
    public required string Environment { get; init; }
    public required string Source { get; init; }
    public string? PrUrl { get; init; }
    public required DateTimeOffset ShippedAt { get; init; }
    public required string RecordedBy { get; init; }

    internal const string Select = """
        SELECT id AS Id, run_id AS RunId, task_id AS TaskId, sha AS Sha, environment AS Environment, source AS Source, pr_url AS PrUrl,
               shipped_at AS ShippedAt, recorded_by AS RecordedBy
        FROM shipped_events
        """;
}
