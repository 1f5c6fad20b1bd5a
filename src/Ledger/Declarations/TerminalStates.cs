namespace FactoryMcp.Ledger.Declarations;

/// <summary>The four terminal states an agent may declare.</summary>
public static class TerminalStates
{
    public const string PrReady = "PR_READY";
    public const string NoOp = "NO_OP";
    public const string Escalate = "ESCALATE";
    public const string RetryableFailure = "RETRYABLE_FAILURE";

    public static readonly IReadOnlyList<string> All = [PrReady, NoOp, Escalate, RetryableFailure];
}
