using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Verification;

public sealed record VerificationRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required string Role { get; init; }
    public required long AgentId { get; init; }
    public required string State { get; init; }
    public string? Checkout { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public required DateTimeOffset ClaimedAt { get; init; }

    internal const string Select = """
        SELECT id AS Id, run_id AS RunId, role AS Role, agent_id AS AgentId, state AS State, checkout AS Checkout,
               lease_expires_at AS LeaseExpiresAt, claimed_at AS ClaimedAt
        FROM verifications
        """;
}

public sealed record VerdictRow
{
    public required long Id { get; init; }
    public required long RunId { get; init; }
    public required string Role { get; init; }
    public required string Verifier { get; init; }
    public required string Verdict { get; init; }
    public required string Findings { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal const string Select = """
        SELECT v.id AS Id, v.run_id AS RunId, v.role AS Role, a.name AS Verifier, v.verdict AS Verdict, v.findings AS Findings, v.created_at AS CreatedAt
        FROM verdicts v JOIN agents a ON a.id = v.agent_id
        """;
}

/// <summary>A verifier's claim on one run for its role: what get_task_packet resumes or hands out.</summary>
public sealed record VerificationClaim(string Status, VerificationRow Verification, RunRow Run, TaskRow Task);

/// <summary>What submit_verdict came to: the verdict stored, and the task's state once every role has spoken.</summary>
public sealed record VerdictReceipt(
    long VerdictId,
    long RunId,
    string Role,
    int Received,
    int Required,
    string TaskState,
    string Message
);
