namespace FactoryMcp.Ledger.Runs;

/// <summary>A terminal state as the agent declares it. The server decides whether it holds.</summary>
public sealed record DeclarationInput(
    long RunId,
    string State,
    string Summary,
    string? Reason = null,
    string? Question = null,
    string? HeadCommit = null,
    string? ResidualRisk = null
);

/// <summary>The four terminal states an agent may declare.</summary>
public static class TerminalStates
{
    public const string PrReady = "PR_READY";
    public const string NoOp = "NO_OP";
    public const string Escalate = "ESCALATE";
    public const string RetryableFailure = "RETRYABLE_FAILURE";

    public static readonly IReadOnlyList<string> All = [PrReady, NoOp, Escalate, RetryableFailure];
}

/// <summary>What a declaration came to: accepted (with the run's and task's new states), or validating.</summary>
public sealed record DeclarationResult(
    long RunId,
    long DeclarationId,
    string Outcome,
    string RunState,
    string TaskState,
    string Message
);
