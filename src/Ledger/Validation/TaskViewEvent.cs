namespace FactoryMcp.Ledger.Validation;

/// <summary>One audit record of an MCP task (<see cref="TaskViewLedger"/>): a view handed out or cancelled, or an answer given at once.</summary>
public sealed record TaskViewEvent
{
    public required long Seq { get; init; }
    public required string Action { get; init; }
    public long? EntityId { get; init; }
    public required string Actor { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Body { get; init; }

    internal const string Select = """
        SELECT seq AS Seq, action AS Action, entity_id AS EntityId, actor AS Actor, at AS At, body AS Body FROM audit
        """;
}
