namespace FactoryMcp.Ledger.Runs;

/// <summary>A run's move into a stage (scout, build, verify, package, review).</summary>
public sealed record StageRow
{
    public required long RunId { get; init; }
    public required string Stage { get; init; }
    public required DateTimeOffset At { get; init; }
}
