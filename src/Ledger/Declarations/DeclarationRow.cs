namespace FactoryMcp.Ledger.Declarations;

/// <summary>A declaration as recorded: accepted or refused, with the problems that refused it.</summary>
public sealed record DeclarationRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required string State { get; init; }
    public required string Summary { get; init; }
    public string? Reason { get; init; }
    public string? Question { get; init; }
    public string? HeadCommit { get; init; }
    public string? ResidualRisk { get; init; }
    public required string Outcome { get; init; }
    public required string ProblemsJson { get; init; }
    public required string CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal const string Select = """
        SELECT id AS Id, run_id AS RunId, state AS State, summary AS Summary, reason AS Reason, question AS Question,
               head_commit AS HeadCommit, residual_risk AS ResidualRisk, outcome AS Outcome, problems_json AS ProblemsJson,
               created_by AS CreatedBy, created_at AS CreatedAt
        FROM declarations
        """;
}
