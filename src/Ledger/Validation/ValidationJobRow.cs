using FactoryMcp.Ledger.Declarations;

namespace FactoryMcp.Ledger.Validation;

/// <summary>A durable validation job: the server checking one declaration (PR_READY, or a NO_OP that needs the Reproduction re-run).</summary>
public sealed record ValidationJobRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required string DeclaredState { get; init; }
    public required string ArgsHash { get; init; }
    public required string DeclarationJson { get; init; }
    public string? HeadSha { get; init; }
    public required string BaseSha { get; init; }
    public required string State { get; init; }
    public string? Owner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public required long Starts { get; init; }
    public string? Progress { get; init; }
    public required string ProblemsJson { get; init; }
    public string? ResultJson { get; init; }
    public required bool Delivered { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    public bool Finished => State is JobStates.Accepted or JobStates.Refused;

    public DeclarationInput Declaration => Json.Deserialize(DeclarationJson, LedgerJson.Default.DeclarationInput);

    public IReadOnlyList<string> Problems => Json.ReadStrings(ProblemsJson);

    public DeclarationResult? Result =>
        ResultJson is null ? null : Json.Deserialize(ResultJson, LedgerJson.Default.DeclarationResult);

    internal const string Select = """
        SELECT id AS Id, run_id AS RunId, declared_state AS DeclaredState, args_hash AS ArgsHash, declaration_json AS DeclarationJson,
               head_sha AS HeadSha, base_sha AS BaseSha, state AS State, owner AS Owner, lease_expires_at AS LeaseExpiresAt,
               starts AS Starts, progress AS Progress, problems_json AS ProblemsJson, result_json AS ResultJson, delivered AS Delivered, created_at AS CreatedAt,
               started_at AS StartedAt, finished_at AS FinishedAt
        FROM validation_jobs
        """;
}
