using FactoryMcp.Ledger.Idempotency;
using FactoryMcp.Ledger.Runs;

namespace FactoryMcp.Ledger.Declarations;

/// <summary>
/// A declaration read before any decision: normalised, on the caller's run, and whether the server must
/// validate it first (PR_READY; a NO_OP whose Reproduction is re-run at base).
/// </summary>
public sealed record DeclarationCheck(DeclarationInput Input, RunRow Run, bool NeedsValidation)
{
    /// <summary>Identifies this very declaration: calling again with the same arguments finds its validation job.</summary>
    public string ArgsHash => IdempotencyKeys.HashArguments(Input, Audit.CanonicalLedgerJson.Default.DeclarationInput);
}
