namespace FactoryMcp.Ledger.Verification;

/// <summary>What a blind verifier may answer: submit_verdict's <c>verdict</c>.</summary>
public static class VerifierVerdicts
{
    public const string Approve = "approve";
    public const string Reject = "reject";
    public const string NeedsHuman = "needs_human";

    public static readonly IReadOnlyList<string> All = [Approve, Reject, NeedsHuman];
}
