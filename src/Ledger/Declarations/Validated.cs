namespace FactoryMcp.Ledger.Declarations;

/// <summary>A declaration the server validated: its validation job, and the head it validated (null for a NO_OP's re-run).</summary>
internal sealed record Validated(long JobId, string? HeadSha);
