namespace FactoryMcp.Ledger.Agents;

/// <summary>Caller roles. A caller's role always comes from the registry, never from what it claims.</summary>
public static class Roles
{
    public const string Agent = "agent";
    public const string Verifier = "verifier";
    public const string Human = "human";

    public static readonly IReadOnlyList<string> All = [Agent, Verifier, Human];
}
