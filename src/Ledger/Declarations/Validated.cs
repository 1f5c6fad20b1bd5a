namespace FactoryMcp.Ledger.Declarations;

/// <summary>
/// A declaration the server validated: its validation job, the head it validated (null for a NO_OP's re-run), and why
/// a human must review it whatever the line says (a benchmark too noisy to tell), or null.
/// </summary>
internal sealed record Validated(long JobId, string? HeadSha, string? ReviewReason = null);
