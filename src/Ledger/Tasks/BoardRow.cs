namespace FactoryMcp.Ledger.Tasks;

/// <summary>One line of the board: a task with its live run, if any.</summary>
public sealed record BoardRow
{
    public required long TaskId { get; init; }
    public required string Title { get; init; }
    public required string State { get; init; }
    public required string Line { get; init; }
    public required long Priority { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public long? RunId { get; init; }
    public string? Agent { get; init; }
    public string? RunState { get; init; }
    public string? Stage { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public DateTimeOffset? RunOpenedAt { get; init; }

    /// <summary>The progress of the run's validation job under way, if any.</summary>
    public string? Validation { get; init; }
}
