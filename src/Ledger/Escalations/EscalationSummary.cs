namespace FactoryMcp.Ledger.Escalations;

/// <summary>An escalation with its task's title, as the dashboard lists it and a notification announces it.</summary>
public sealed record EscalationSummary
{
    public required long Id { get; init; }
    public required long TaskId { get; init; }
    public long? RunId { get; init; }
    public required string Title { get; init; }
    public required string Question { get; init; }
    public required string RaisedBy { get; init; }
    public required DateTimeOffset RaisedAt { get; init; }

    /// <summary>The select without its WHERE clause: callers add theirs (filters on <c>e.</c>).</summary>
    internal const string Select = """
        SELECT e.id AS Id, e.task_id AS TaskId, e.run_id AS RunId, t.title AS Title, e.question AS Question,
               e.raised_by AS RaisedBy, e.raised_at AS RaisedAt
        FROM escalations e JOIN tasks t ON t.id = e.task_id
        """;
}
