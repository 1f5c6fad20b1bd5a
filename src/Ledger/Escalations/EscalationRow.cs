namespace FactoryMcp.Ledger.Escalations;

/// <summary>A durable question a human answers: raised by a run, a budget or a verifier; answered with requeue or cancel.</summary>
public sealed record EscalationRow
{
    public required long Id { get; init; }
    public required long TaskId { get; init; }
    public long? RunId { get; init; }
    public required string Question { get; init; }
    public required string RaisedBy { get; init; }
    public required DateTimeOffset RaisedAt { get; init; }
    public string? Answer { get; init; }
    public string? Action { get; init; }
    public string? AnsweredBy { get; init; }

    internal const string Select = """
        SELECT id AS Id, task_id AS TaskId, run_id AS RunId, question AS Question, raised_by AS RaisedBy, raised_at AS RaisedAt,
               answer AS Answer, action AS Action, answered_by AS AnsweredBy
        FROM escalations
        """;
}
