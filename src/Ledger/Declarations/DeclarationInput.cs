namespace FactoryMcp.Ledger.Declarations;

/// <summary>A terminal state as the agent declares it. The server decides whether it holds.</summary>
public sealed record DeclarationInput(
    long RunId,
    string State,
    string Summary,
    string? Reason = null,
    string? Question = null,
    string? HeadCommit = null,
    string? ResidualRisk = null
)
{
    /// <summary>
    /// The declaration as the gate reads it: the state upper-cased with underscores (<c>no-op</c> is
    /// NO_OP), the reason trimmed, the head lower-cased. A state that is not terminal is refused.
    /// </summary>
    public DeclarationInput Normalized()
    {
        var state = (State ?? "").Trim().ToUpperInvariant().Replace('-', '_').Replace(' ', '_');
        if (!TerminalStates.All.Contains(state))
            throw new LedgerException(
                $"State '{State}' is not a terminal state; use one of {string.Join(", ", TerminalStates.All)}."
            );
        return this with { State = state, Reason = Reason?.Trim(), HeadCommit = HeadCommit?.Trim().ToLowerInvariant() };
    }
}
