using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Runs;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// declare_terminal_state: the gate of DESIGN section 5. The agent declares; the server checks.
/// </summary>
public sealed class DeclarationService(RunLedger runs)
{
    public async Task<DeclarationResult> DeclareAsync(Caller caller, DeclarationInput input, CancellationToken ct = default)
    {
        if (caller.Role != Roles.Agent) throw new LedgerException("Only the builder holding a run declares its terminal state.");
        var state = RunLedger.NormalizeState(input.State);
        if (state == TerminalStates.PrReady)
            throw new LedgerException("PR_READY cannot be accepted by this server yet: server-side validation is not available. Declare NO_OP, ESCALATE or RETRYABLE_FAILURE.");
        return await runs.DeclareAsync(caller, input with { State = state }, [], ct);
    }
}
