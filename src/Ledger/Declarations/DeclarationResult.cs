namespace FactoryMcp.Ledger.Declarations;

/// <summary>What a declaration came to: accepted (with the run's and task's new states), refused, or validating.</summary>
public sealed record DeclarationResult(
    long RunId,
    long DeclarationId,
    string Outcome,
    string RunState,
    string TaskState,
    string Message
);
