using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// What the gate observed, as data rather than prose: the facts an accepted run's attestation states (README,
/// "Attestations").
/// </summary>
public sealed record GateFacts(
    IReadOnlyList<CommandOutcome> Validation,
    string? Reproduction,
    string? JunitPattern,
    string? TestsSummary,
    IReadOnlyList<TestRow>? Tests,
    bool Sandboxed,
    bool Network,
    int TimeoutSeconds,
    SandboxLimits Limits
);
